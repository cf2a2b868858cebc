package dev.spindle.remote;

import java.util.Arrays;
import java.util.BitSet;

/**
 * What a child needs to resume a sandbox on another node, and nothing more: the page table as
 * content hashes (an all-zero hash is a zero page), the dropped data segments, the sandbox's own
 * state (globals, tables, WASI; opaque JSON bytes here), where the parent's page service is, and
 * the capability that lets the child read exactly these pages until {@code expiresAtMillis}. No
 * page data: a descriptor of a 1 GiB sandbox is 32 bytes a page, ~0.5 MB.
 */
public record Descriptor(
    int pages,
    byte[] pageHashes,
    BitSet droppedSegments,
    byte[] state,
    String host,
    int port,
    Capability capability,
    long expiresAtMillis) {
  public static final int HASH_BYTES = 32;

  public Descriptor {
    if (pages < 0 || pageHashes.length != pages * HASH_BYTES) {
      throw new IllegalArgumentException(
          "page hashes: " + pageHashes.length + " bytes for " + pages + " pages");
    }
  }

  /** Page {@code i}'s SHA-256 (32 bytes). */
  byte[] hash(int i) {
    return Arrays.copyOfRange(pageHashes, i * HASH_BYTES, (i + 1) * HASH_BYTES);
  }

  boolean isZero(int i) {
    for (int k = i * HASH_BYTES; k < (i + 1) * HASH_BYTES; k++) {
      if (pageHashes[k] != 0) {
        return false;
      }
    }
    return true;
  }

  /** The pages a child must fetch at most: every non-zero page. */
  public int nonZeroPages() {
    int n = 0;
    for (int i = 0; i < pages; i++) {
      if (!isZero(i)) {
        n++;
      }
    }
    return n;
  }
}
