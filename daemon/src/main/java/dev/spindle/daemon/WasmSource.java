package dev.spindle.daemon;

import dev.spindle.client.Api.Wasm;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.PathResolver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * Where a sandbox's module comes from: base64 bytes in the request, a file on the node's host
 * (absolute, under an {@code --allow-path} directory), or a path inside a ready image. Exactly one,
 * checked here.
 */
final class WasmSource {
  /** The module's bytes and, when it came from an image, that image's tag (the lineage). */
  record Loaded(byte[] bytes, String image) {}

  private final Catalog catalog;
  private final NodePolicy policy;

  WasmSource(Catalog catalog, NodePolicy policy) {
    this.catalog = catalog;
    this.policy = policy;
  }

  Loaded load(Wasm w) throws IOException {
    if (w == null) {
      throw ApiError.badRequest(
          "bad_field",
          "field 'wasm' is required: {\"base64\": ...} or {\"file\": ...} or {\"image\": TAG, \"path\": ...}");
    }
    int given =
        (w.base64() != null ? 1 : 0) + (w.file() != null ? 1 : 0) + (w.image() != null ? 1 : 0);
    if (given != 1) {
      throw ApiError.badRequest(
          "bad_field",
          "field 'wasm' needs exactly one of 'base64', 'file', 'image' (got " + given + ")");
    }
    if (w.path() != null && w.image() == null) {
      throw ApiError.badRequest("bad_field", "field 'wasm.path' goes with 'wasm.image'");
    }
    if (w.base64() != null) {
      try {
        return new Loaded(Base64.getDecoder().decode(w.base64()), null);
      } catch (IllegalArgumentException e) {
        throw ApiError.badRequest(
            "bad_field", "field 'wasm.base64' is not base64: " + e.getMessage());
      }
    }
    if (w.file() != null) {
      // Checked before the file is looked at, so a refusal tells nothing about the node's files.
      Path p = policy.requireAllowed(w.file(), "wasm.file");
      if (!Files.isRegularFile(p)) {
        throw ApiError.badRequest("bad_field", "field 'wasm.file' is not a regular file");
      }
      return new Loaded(Files.readAllBytes(p), null);
    }
    if (w.path() == null) {
      throw ApiError.badRequest("bad_field", "field 'wasm.path' is required with 'wasm.image'");
    }
    var info = catalog.get(w.image());
    if (!Catalog.IMAGE.equals(info.kind()) || !info.ready()) {
      throw ApiError.conflict(
          "not_ready",
          "'"
              + w.image()
              + "' is a "
              + info.kind()
              + " with status "
              + info.status()
              + ", not a ready image");
    }
    // Through the store's policy check: a node that trusts keys runs only images signed by one.
    try (Image img = catalog.images().open(Catalog.tag(w.image(), "wasm.image"), AccessMode.LAZY)) {
      ImageEntry e;
      try {
        e = new PathResolver(img).resolve(w.path(), true);
      } catch (IOException notThere) {
        throw ApiError.badRequest(
            "bad_field",
            "field 'wasm.path': "
                + w.path()
                + " is not a file in image '"
                + w.image()
                + "': "
                + notThere.getMessage());
      }
      if (e.isDirectory()) {
        throw ApiError.badRequest(
            "bad_field",
            "field 'wasm.path': " + w.path() + " is a directory in image '" + w.image() + "'");
      }
      return new Loaded(img.read(e), w.image());
    }
  }
}
