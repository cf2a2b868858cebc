package dev.spindle.image;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;

/**
 * Checks a blob's bytes against its Git id: JGit returns what a loose object or pack holds without
 * hashing it, so an altered object would be read as wrong bytes. A tree image checks every read.
 */
final class BlobCheck {
  private BlobCheck() {}

  /** Throws naming {@code path} and {@code id} unless {@code bytes} hash to {@code id}. */
  static void require(String source, String path, AnyObjectId id, byte[] bytes) throws IOException {
    ObjectId got;
    try (ObjectInserter.Formatter f = new ObjectInserter.Formatter()) {
      got = f.idFor(Constants.OBJ_BLOB, bytes);
    }
    if (!got.equals(id)) {
      throw damaged(source, path, id);
    }
  }

  private static IOException damaged(String source, String path, AnyObjectId id) {
    return new IOException(
        source + ": /" + path + " is damaged: object " + id.name() + " does not hash to its id");
  }

  /**
   * {@code in} (the {@code size} bytes of blob {@code id}), checked as it is read: the end of the
   * stream throws if the bytes did not hash to the id (or were not {@code size} long).
   */
  static InputStream stream(String source, String path, AnyObjectId id, long size, InputStream in) {
    java.security.MessageDigest md = Constants.newMessageDigest();
    md.update(Constants.encodedTypeString(Constants.OBJ_BLOB));
    md.update((byte) ' ');
    md.update(Constants.encodeASCII(size));
    md.update((byte) 0);
    return new FilterInputStream(in) {
      private long seen;
      private boolean checked;

      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b < 0) {
          check();
        } else {
          md.update((byte) b);
          seen++;
        }
        return b;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n < 0) {
          check();
        } else {
          md.update(buf, off, n);
          seen += n;
        }
        return n;
      }

      @Override
      public long skip(long n) throws IOException {
        // Skipped bytes must still be hashed: read them.
        byte[] buf = new byte[8192];
        long left = n;
        while (left > 0) {
          int r = read(buf, 0, (int) Math.min(buf.length, left));
          if (r < 0) {
            break;
          }
          left -= r;
        }
        return n - left;
      }

      @Override
      public boolean markSupported() {
        return false;
      }

      private void check() throws IOException {
        if (checked) {
          return;
        }
        checked = true;
        if (seen != size || !ObjectId.fromRaw(md.digest()).equals(id)) {
          throw damaged(source, path, id);
        }
      }
    };
  }
}
