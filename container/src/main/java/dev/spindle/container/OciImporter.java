package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * Imports a container image ({@code oci-layout:DIR}, {@code docker-archive:FILE.tar} or {@code
 * docker://HOST/REPO:TAG}, see {@link RegistryPull}) as a Spindle image: layers applied in order
 * into one tree (whiteouts honoured), the tree made into an image under the tag, the run config
 * kept beside it ({@link OciImageConfig}).
 */
public final class OciImporter {
  /** What an import did. {@code skipped}: entries an image cannot hold (devices, FIFOs). */
  public record Result(ImageHeader header, OciImageConfig config, int layers, int skipped) {}

  private final ImageStore store;
  private final Progress progress;

  public OciImporter(ImageStore store, Progress progress) {
    this.store = store;
    this.progress = progress;
  }

  public Result importImage(String source, Tag tag, MakeOptions options) throws IOException {
    return importImage(source, tag, options, null);
  }

  /**
   * Imports {@code source}, which may also be {@code docker://HOST[:PORT]/REPO[:TAG|@DIGEST]}, an
   * image in a registry, reached as {@code registry} says (required for such a source).
   */
  public Result importImage(String source, Tag tag, MakeOptions options, RegistryOptions registry)
      throws IOException {
    Path scratch = Files.createTempDirectory("spindle-oci-");
    try {
      RegistryPull.Pulled pulled = null;
      OciArchive.Parts parts;
      if (RegistryRef.isRegistry(source)) {
        if (registry == null) {
          throw new IllegalArgumentException(
              "importing from a registry needs RegistryOptions: " + source);
        }
        pulled = RegistryPull.pull(RegistryRef.parse(source), registry, progress);
        parts = pulled.parts();
      } else {
        parts = OciArchive.read(source, scratch);
      }
      OciImageConfig config = OciImageConfig.parse(parts.config());
      List<String> diffIds = diffIds(parts.config());
      if (!diffIds.isEmpty() && diffIds.size() != parts.layers().size()) {
        throw new IOException(
            source
                + ": the config lists "
                + diffIds.size()
                + " layers, the manifest "
                + parts.layers().size());
      }
      Path rootfs = Files.createDirectory(scratch.resolve("rootfs"));
      LayerApplier applier = new LayerApplier(rootfs);
      long bytes = 0;
      for (OciArchive.Layer layer : parts.layers()) {
        bytes += Files.size(layer.file());
      }
      // Applying a large layer takes a while with nothing else to show: its bytes read are the
      // units.
      progress.begin("applying layers", bytes);
      try {
        for (int i = 0; i < parts.layers().size(); i++) {
          OciArchive.Layer layer = parts.layers().get(i);
          String diffId;
          try (InputStream in = new Counted(layer.open(), progress)) {
            diffId = applier.apply(in, layer.name());
            in.transferTo(
                OutputStream.nullOutputStream()); // to the end, where the digest is checked
          }
          if (!diffIds.isEmpty() && !diffIds.get(i).equals(diffId)) {
            throw new IOException(
                "layer "
                    + layer.name()
                    + " is damaged: its uncompressed sha256 is "
                    + diffId
                    + ", the config says "
                    + diffIds.get(i));
          }
        }
      } finally {
        progress.end();
      }
      // A .git inside the image is just files; modes, owners and attributes are the layers' word.
      MakeOptions o = options.withDirectoryAsFiles(true).withMetadata(applier.metadata());
      if (o.date() == null) {
        o = o.withDate(created(parts.config())); // same image, same bytes
      }
      ImageHeader header = store.make(rootfs.toString(), tag, o, progress);
      config.writeFor(store.path(tag));
      if (pulled != null) {
        pulled.discard(); // in the image now; kept only while a rerun could resume them
      }
      return new Result(header, config, parts.layers().size(), applier.skipped());
    } finally {
      Trees.delete(scratch);
    }
  }

  private static List<String> diffIds(byte[] config) throws IOException {
    JsonNode ids = OciArchive.json(config, "image config").path("rootfs").path("diff_ids");
    return ids.isArray() ? ids.valueStream().map(JsonNode::asText).toList() : List.of();
  }

  private static OffsetDateTime created(byte[] config) throws IOException {
    String c = OciArchive.json(config, "image config").path("created").asText("");
    try {
      return c.isEmpty() ? OffsetDateTime.parse("1970-01-01T00:00:00Z") : OffsetDateTime.parse(c);
    } catch (DateTimeParseException e) {
      throw new IOException(
          "image config: 'created' is not an RFC 3339 date", e); // not echoed: a registry's text
    }
  }

  /** Reports the bytes read through it as progress. */
  private static final class Counted extends FilterInputStream {
    private final Progress progress;

    Counted(InputStream in, Progress progress) {
      super(in);
      this.progress = progress;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        progress.advance(1);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        progress.advance(n);
      }
      return n;
    }
  }
}
