package dev.spindle.container;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the extended attributes of a tar's entries exactly, from the raw bytes as they pass to the
 * tar reader: commons-compress decodes PAX values as UTF-8, which alters a binary one (a file
 * capability, a trusted.* value), and GNU tar writes {@code SCHILY.xattr.NAME} values raw. Each
 * real entry (not a PAX, GNU long-name or global header) queues its attributes, in order, with its
 * size so the caller can check it pairs the right ones with the entry the tar reader gives.
 */
final class PaxXattrs extends FilterInputStream {
  /**
   * What one entry's PAX record said: its attributes, and the entry's size for the pairing check.
   */
  record Found(long size, Map<String, byte[]> xattrs, String problem) {}

  private static final int BLOCK = 512;

  /** A PAX record above this is not read for attributes (the tar reader still reads it). */
  private static final int MAX_PAX = 8 << 20;

  private static final String SCHILY = "SCHILY.xattr.";
  private static final String LIBARCHIVE = "LIBARCHIVE.xattr.";

  private final Deque<Found> found = new ArrayDeque<>();
  private final byte[] header = new byte[BLOCK];
  private int headerFill;
  private long skip; // content + padding still to pass before the next header
  private byte[] pax; // the PAX record being read, or null
  private int paxFill;
  private Map<String, byte[]> pending; // attributes of the next real entry
  private String pendingProblem;

  PaxXattrs(InputStream in) {
    super(in);
  }

  /** The next real entry's attributes; empty when the tar had no more. */
  Found next() {
    Found f = found.poll();
    return f == null ? new Found(-1, Map.of(), null) : f;
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      see(new byte[] {(byte) b}, 0, 1);
    }
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = super.read(b, off, len);
    if (n > 0) {
      see(b, off, n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buf = new byte[8192];
    long done = 0;
    while (done < n) {
      int r = read(buf, 0, (int) Math.min(buf.length, n - done));
      if (r < 0) {
        break;
      }
      done += r;
    }
    return done;
  }

  private void see(byte[] b, int off, int len) {
    int i = off;
    int end = off + len;
    while (i < end) {
      if (skip > 0) {
        int n = (int) Math.min(skip, end - i);
        if (pax != null && paxFill < pax.length) {
          int c = Math.min(n, pax.length - paxFill);
          System.arraycopy(b, i, pax, paxFill, c);
          paxFill += c;
          if (paxFill == pax.length) {
            parsePax(pax);
            pax = null;
          }
        }
        skip -= n;
        i += n;
        continue;
      }
      int c = Math.min(BLOCK - headerFill, end - i);
      System.arraycopy(b, i, header, headerFill, c);
      headerFill += c;
      i += c;
      if (headerFill == BLOCK) {
        headerFill = 0;
        onHeader();
      }
    }
  }

  private void onHeader() {
    boolean zero = true;
    for (byte x : header) {
      if (x != 0) {
        zero = false;
        break;
      }
    }
    if (zero) {
      return; // end-of-archive blocks
    }
    long size = size();
    long padded = size < 0 ? 0 : (size + BLOCK - 1) / BLOCK * BLOCK;
    skip = padded;
    char type = (char) header[156];
    if (type == 'x' || type == 'X') {
      if (size >= 0 && size <= MAX_PAX) {
        pax = new byte[(int) size];
        paxFill = 0;
        if (size == 0) {
          pax = null;
        }
      } else {
        pendingProblem = "a PAX record of " + size + " bytes";
      }
    } else if (type == 'g' || type == 'L' || type == 'K') {
      // global header, GNU long name or link: no attributes of one entry
    } else {
      found.add(new Found(size, pending == null ? Map.of() : pending, pendingProblem));
      pending = null;
      pendingProblem = null;
    }
  }

  /** The size field: octal, or base-256 when its first byte has the high bit (GNU). */
  private long size() {
    if ((header[124] & 0x80) != 0) {
      long v = 0;
      for (int i = 125; i < 136; i++) {
        v = (v << 8) | (header[i] & 0xff);
        if (v > (1L << 50)) {
          return -1;
        }
      }
      return v;
    }
    long v = 0;
    for (int i = 124; i < 136; i++) {
      int c = header[i];
      if (c == 0 || c == ' ') {
        if (v > 0) {
          break;
        }
        continue;
      }
      if (c < '0' || c > '7') {
        return -1;
      }
      v = v * 8 + (c - '0');
    }
    return v;
  }

  /** PAX records: "LEN KEY=VALUE\n", LEN counting the whole record; values are raw bytes. */
  private void parsePax(byte[] r) {
    Map<String, byte[]> out = new TreeMap<>();
    int i = 0;
    while (i < r.length) {
      int sp = i;
      long len = 0;
      while (sp < r.length && r[sp] >= '0' && r[sp] <= '9' && len < Integer.MAX_VALUE) {
        len = len * 10 + (r[sp] - '0');
        sp++;
      }
      if (sp >= r.length
          || r[sp] != ' '
          || len <= sp - i
          || i + len > r.length
          || r[(int) (i + len - 1)] != '\n') {
        pendingProblem = "a malformed PAX record";
        break;
      }
      int recEnd = (int) (i + len - 1);
      int eq = sp + 1;
      while (eq < recEnd && r[eq] != '=') {
        eq++;
      }
      if (eq >= recEnd) {
        pendingProblem = "a malformed PAX record";
        break;
      }
      String key = new String(r, sp + 1, eq - sp - 1, StandardCharsets.UTF_8);
      byte[] value = java.util.Arrays.copyOfRange(r, eq + 1, recEnd);
      if (key.startsWith(SCHILY)) {
        out.putIfAbsent(key.substring(SCHILY.length()), value);
      } else if (key.startsWith(LIBARCHIVE)) {
        try {
          String name =
              java.net.URLDecoder.decode(
                  key.substring(LIBARCHIVE.length()), StandardCharsets.UTF_8);
          out.put(
              name,
              Base64.getDecoder().decode(new String(value, StandardCharsets.US_ASCII).strip()));
        } catch (IllegalArgumentException bad) {
          pendingProblem = "an attribute that is not base64";
        }
      }
      i += (int) len;
    }
    pending = out;
  }
}
