package dev.spindle.fork;

/**
 * The files of a snapshot directory.
 *
 * <p>Format version 1 (a whole snapshot):
 *
 * <ul>
 *   <li>{@code memory.bin}: the linear memory, dense ({@code pages × page_size} bytes, zero pages
 *       as holes), byte-identical whichever mode (full, live) made it;
 *   <li>{@code pages.sha256}: 32 bytes per page, the SHA-256 of its bytes, all zero for a zero
 *       page;
 *   <li>{@code state.json}: {@code format_version}, page geometry, the SHA-256 of {@code
 *       pages.sha256} (so one hash covers all memory), dropped data segments, lineage, and the
 *       sandbox's own state (globals, tables, WASI) under {@code sandbox}.
 * </ul>
 *
 * <p>Format version 2 (an incremental snapshot, one link of a chain) adds to version 1:
 *
 * <ul>
 *   <li>{@code inherited.bits}: one bit per page (bit {@code i % 8} of byte {@code i / 8}), set for
 *       a page whose bytes are the base's: its place in {@code memory.bin} is a hole, and reads go
 *       through the base (itself possibly incremental);
 *   <li>in {@code state.json}: {@code base} (the tag of the snapshot read through), {@code
 *       base_page_hashes_sha256} (the base's {@code page_hashes_sha256} when this was written: a
 *       base replaced under the same tag is refused), {@code chain_depth} (links down to a whole
 *       snapshot, at most {@link #MAX_CHAIN}), {@code inherited_pages} and {@code
 *       inherited_bits_sha256}.
 * </ul>
 *
 * {@code pages.sha256} always holds every page's hash, inherited or not, so the root hash of a
 * snapshot does not depend on how it is stored and compacting one changes no hash.
 */
final class SnapshotFormat {
  static final int VERSION = 1;
  static final int INCREMENTAL_VERSION = 2;
  static final String MEMORY = "memory.bin";
  static final String HASHES = "pages.sha256";
  static final String STATE = "state.json";
  static final String INHERITED = "inherited.bits";
  static final int HASH_BYTES = 32;

  /**
   * The longest chain a snapshot is written onto: a snapshot whose base is this deep is written
   * whole instead, so a read goes through at most this many links and opening opens at most this
   * many directories.
   */
  static final int MAX_CHAIN = 16;

  private SnapshotFormat() {}

  static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b);
  }

  static byte[] bits(java.util.BitSet set, int pages) {
    byte[] b = new byte[(pages + 7) / 8];
    byte[] src = set.toByteArray();
    System.arraycopy(src, 0, b, 0, Math.min(src.length, b.length));
    return b;
  }
}
