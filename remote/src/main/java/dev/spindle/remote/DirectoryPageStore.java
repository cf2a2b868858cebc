package dev.spindle.remote;

import dev.spindle.store.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Pages as files {@code <root>/<2 hex>/<62 hex>}, descriptors' hash lists as {@code
 * <root>/hashes/<id>}, and forked sandboxes' files as {@code <root>/objects/<2 hex>/<38 hex>}, each
 * written atomically: the default store.
 */
public final class DirectoryPageStore implements PageStore {
  private final Path root;

  public DirectoryPageStore(Path root) {
    this.root = root;
  }

  private Path path(byte[] hash) {
    String h = HexFormat.of().formatHex(hash);
    return root.resolve(h.substring(0, 2)).resolve(h.substring(2));
  }

  @Override
  public Optional<byte[]> get(byte[] hash) throws IOException {
    try {
      return Optional.of(Files.readAllBytes(path(hash)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public void put(byte[] hash, byte[] page) throws IOException {
    Path p = path(hash);
    if (!Files.exists(p)) {
      AtomicFiles.write(p, page);
    }
  }

  @Override
  public boolean contains(byte[] hash) {
    return Files.exists(path(hash));
  }

  private Path objectPath(String idHex) {
    if (!idHex.matches("[0-9a-f]{40}")) {
      throw new IllegalArgumentException("not a Git object id: " + idHex.length() + " characters");
    }
    return root.resolve("objects").resolve(idHex.substring(0, 2)).resolve(idHex.substring(2));
  }

  @Override
  public void putObject(String idHex, byte[] raw) throws IOException {
    Path p = objectPath(idHex);
    if (!Files.exists(p)) {
      AtomicFiles.write(p, raw);
    }
  }

  @Override
  public boolean containsObject(String idHex) {
    return Files.exists(objectPath(idHex));
  }

  @Override
  public Optional<java.io.InputStream> getObject(String idHex) throws IOException {
    try {
      return Optional.of(Files.newInputStream(objectPath(idHex)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public void putHashes(String descriptorId, byte[] hashes) throws IOException {
    AtomicFiles.write(root.resolve("hashes").resolve(descriptorId), hashes);
  }

  @Override
  public Optional<byte[]> getHashes(String descriptorId) throws IOException {
    try {
      return Optional.of(Files.readAllBytes(root.resolve("hashes").resolve(descriptorId)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }
}
