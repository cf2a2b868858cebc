package dev.spindle.fork;

/**
 * The files of a snapshot directory, format version 1:
 *
 * <ul>
 *   <li>{@code memory.bin}: the linear memory, dense ({@code pages × page_size} bytes, zero pages
 *       as holes), byte-identical whichever mode (full, live) made it;
 *   <li>{@code pages.sha256}: 32 bytes per page, the SHA-256 of its bytes, all zero for a zero page;
 *   <li>{@code state.json}: {@code format_version}, page geometry, the SHA-256 of {@code
 *       pages.sha256} (so one hash covers all memory), dropped data segments, lineage, and the
 *       sandbox's own state (globals, tables, WASI) under {@code sandbox}.
 * </ul>
 */
final class SnapshotFormat {
  static final int VERSION = 1;
  static final String MEMORY = "memory.bin";
  static final String HASHES = "pages.sha256";
  static final String STATE = "state.json";
  static final int HASH_BYTES = 32;

  private SnapshotFormat() {}

  static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b);
  }
}
