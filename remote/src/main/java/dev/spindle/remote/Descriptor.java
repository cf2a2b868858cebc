package dev.spindle.remote;

import dev.spindle.store.Hashes;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HexFormat;

/**
 * What a child needs to resume a sandbox on another node, and nothing more: the page table as
 * content hashes (an all-zero hash is a zero page), the dropped data segments, the sandbox's own
 * state (globals, tables, WASI; opaque JSON bytes here), where the parent's page service is, and
 * the capability that lets the child read exactly these pages until {@code expiresAtMillis}. No
 * page data.
 *
 * <p>A page whose hash the parent had not computed yet when it prepared is <em>pending</em>:
 * hashing 1 GiB costs ~0.8 s on one core here, while preparing is meant to cost a table walk. The
 * parent hashes pending pages right after preparing; a child learns their hashes from the page
 * service (with each page it fetches, and as a list in the background) or, when the parent is gone,
 * from the hash list the parent saved in the fallback store. Its pageHashes entry is 32 zero bytes
 * until then.
 */
public record Descriptor(
    int pages,
    byte[] pageHashes,
    BitSet pendingHashes,
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
    if (pendingHashes.length() > pages) {
      throw new IllegalArgumentException(
          "pending page " + (pendingHashes.length() - 1) + " of " + pages);
    }
  }

  /** A descriptor whose every hash is known. */
  public Descriptor(
      int pages,
      byte[] pageHashes,
      BitSet droppedSegments,
      byte[] state,
      String host,
      int port,
      Capability capability,
      long expiresAtMillis) {
    this(
        pages,
        pageHashes,
        new BitSet(),
        droppedSegments,
        state,
        host,
        port,
        capability,
        expiresAtMillis);
  }

  /** Page {@code i}'s SHA-256 (32 bytes; all zero for a zero page and for a pending one). */
  byte[] hash(int i) {
    return Arrays.copyOfRange(pageHashes, i * HASH_BYTES, (i + 1) * HASH_BYTES);
  }

  public boolean isPending(int i) {
    return pendingHashes.get(i);
  }

  public boolean isZero(int i) {
    if (pendingHashes.get(i)) {
      return false;
    }
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

  /**
   * A name for this descriptor that can be logged and used as a store key without granting
   * anything: the first 16 bytes of the SHA-256 of its capability, in hex.
   */
  public String id() {
    return HexFormat.of().formatHex(Hashes.sha256(capability.bytes()), 0, 16);
  }

  /** The same descriptor with another capability (tests forge stolen ones with it). */
  public Descriptor withCapability(Capability c) {
    return new Descriptor(
        pages, pageHashes, pendingHashes, droppedSegments, state, host, port, c, expiresAtMillis);
  }

  /** The same descriptor with another expiry. */
  public Descriptor withExpiry(long millis) {
    return new Descriptor(
        pages, pageHashes, pendingHashes, droppedSegments, state, host, port, capability, millis);
  }

  /** The same descriptor pointing at another page service. */
  public Descriptor withAddress(String h, int p) {
    return new Descriptor(
        pages,
        pageHashes,
        pendingHashes,
        droppedSegments,
        state,
        h,
        p,
        capability,
        expiresAtMillis);
  }
}
