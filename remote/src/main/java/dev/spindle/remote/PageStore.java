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
}
