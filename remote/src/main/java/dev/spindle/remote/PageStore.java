package dev.spindle.remote;

import java.io.IOException;
import java.util.Optional;

/**
 * A durable store of pages by content hash (SHA-256): the fallback when a parent node is gone.
 * Deduplicated by construction: a page is stored once whatever descriptors hold it.
 */
public interface PageStore {
  Optional<byte[]> get(byte[] hash) throws IOException;

  void put(byte[] hash, byte[] page) throws IOException;

  boolean contains(byte[] hash) throws IOException;

  /**
   * Saves a descriptor's full page-hash list (32 bytes a page), under its {@link Descriptor#id()}:
   * a child whose descriptor had pending hashes needs it to find pages here once the parent is
   * gone.
   */
  void putHashes(String descriptorId, byte[] hashes) throws IOException;

  Optional<byte[]> getHashes(String descriptorId) throws IOException;

  /**
   * Saves a Git object of a forked sandbox's files under its id ({@code idHex}, 40 hex digits), as
   * Git hashes it: {@code "<type> <size>\0"} then the content, uncompressed. A child checks it
   * against the id when it reads it back ({@link RemoteObjects}).
   */
  void putObject(String idHex, byte[] raw) throws IOException;

  boolean containsObject(String idHex) throws IOException;

  /** The stream of a saved object (the caller bounds what it reads), or empty. */
  Optional<java.io.InputStream> getObject(String idHex) throws IOException;
}
