package dev.spindle.remote;

import dev.spindle.bucket.Bucket;
import java.io.IOException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Pages in an S3-compatible bucket as objects {@code <prefix>pages/<sha256 hex>}, descriptors' hash
 * lists as {@code <prefix>hashes/<id>}, and forked sandboxes' files as {@code <prefix>objects/<git
 * id>}: for clusters.
 */
public final class S3PageStore implements PageStore {
  private final Bucket bucket;

  public S3PageStore(Bucket bucket) {
    this.bucket = bucket;
  }

  private static String key(byte[] hash) {
    return "pages/" + HexFormat.of().formatHex(hash);
  }

  @Override
  public Optional<byte[]> get(byte[] hash) throws IOException {
    return bucket.get(key(hash));
  }

  @Override
  public void put(byte[] hash, byte[] page) throws IOException {
    bucket.put(key(hash), page);
  }

  @Override
  public boolean contains(byte[] hash) throws IOException {
    return bucket.contains(key(hash));
  }

  @Override
  public void putObject(String idHex, byte[] raw) throws IOException {
    bucket.put("objects/" + idHex, raw);
  }

  @Override
  public boolean containsObject(String idHex) throws IOException {
    return bucket.contains("objects/" + idHex);
  }

  @Override
  public Optional<java.io.InputStream> getObject(String idHex) throws IOException {
    return bucket.stream("objects/" + idHex);
  }

  @Override
  public void putHashes(String descriptorId, byte[] hashes) throws IOException {
    bucket.put("hashes/" + descriptorId, hashes);
  }

  @Override
  public Optional<byte[]> getHashes(String descriptorId) throws IOException {
    return bucket.get("hashes/" + descriptorId);
  }
}
