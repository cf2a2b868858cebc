package dev.spindle.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Checks every byte of an image: header, PACK checksum, IDX checksum and its agreement with the
 * PACK, each object's CRC (which pinpoints which object's bytes are damaged), each object's content
 * against its id, that every tree is well formed ({@link TreeChecks}) and every tree entry
 * resolves, and the path index against the trees. Damage is reported with the file offset and the
 * object it hits, never thrown.
 */
public final class ImageVerifier {
  private final Progress progress;
  private final boolean metadataOnly;

  public ImageVerifier(Progress progress) {
    this(progress, false);
  }

  /**
   * {@code metadataOnly}: the image holds its commit and trees but no blob (a lazy pull); blobs are
   * checked against their id when fetched, so here only their sizes come from the path index.
   */
  public ImageVerifier(Progress progress, boolean metadataOnly) {
    this.progress = progress;
    this.metadataOnly = metadataOnly;
  }

  /** Checks {@code file}; each call is its own {@link VerifyRun}, so calls may overlap. */
  public VerifyReport verify(Path file) throws IOException {
    return new VerifyRun(file, progress, metadataOnly).verify();
  }

  private static final int IDX_MAGIC = 0xff744f63;

  /** Magic and version, the 256-entry fan-out table, and the two trailing SHA-1s. */
  private static final int IDX_FIXED = 8 + 256 * 4 + 40;

  /**
   * The IDX's layout, checked before JGit reads it: JGit sizes its tables from the fan-out table's
   * last count, so a damaged one made it allocate gigabytes or index past its arrays. Returns what
   * is wrong, or null.
   */
  static String idxLayoutProblem(byte[] idx) {
    ByteBuffer b = ByteBuffer.wrap(idx);
    if (idx.length < IDX_FIXED) {
      return "IDX section too short (" + idx.length + " bytes)";
    }
    if (b.getInt(0) != IDX_MAGIC || b.getInt(4) != 2) {
      return "IDX is not a version 2 pack index";
    }
    long n = 0;
    for (int i = 0; i < 256; i++) {
      long f = Integer.toUnsignedLong(b.getInt(8 + 4 * i));
      if (f < n) {
        return "IDX fan-out table decreases at entry " + i;
      }
      n = f;
    }
    if (n > (idx.length - IDX_FIXED) / 28) {
      return "IDX claims " + n + " objects, more than its " + idx.length + " bytes can hold";
    }
    int names = 8 + 256 * 4;
    int offsets = names + (int) n * 24;
    long large = 0;
    for (int i = 0; i < n; i++) {
      if (b.getInt(offsets + 4 * i) < 0) {
        large++;
      }
      if (i > 0
          && Arrays.compareUnsigned(
                  idx,
                  names + 20 * (i - 1),
                  names + 20 * i,
                  idx,
                  names + 20 * i,
                  names + 20 * (i + 1))
              >= 0) {
        return "IDX object names are not sorted and unique at entry " + i;
      }
    }
    if (IDX_FIXED + 28 * n + 8 * large != idx.length) {
      return "IDX is " + idx.length + " bytes, not what " + n + " objects take";
    }
    return null;
  }
}
