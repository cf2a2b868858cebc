package dev.spindle.remote;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The page service's frames over TCP, version 2 (big-endian). Every frame is {@code u32 length, u8
 * version, u8 type, payload}; lengths are bounded before anything is allocated.
 *
 * <pre>
 * GET_PAGES  (1): 16-byte capability, u16 count (1..{@value #MAX_BATCH}), count × u32 page index
 * RELEASE    (2): 16-byte capability
 * GET_HASHES (3): 16-byte capability, u32 first page, u16 count (1..{@value #MAX_HASHES})
 * GET_MODULE (4): 16-byte capability, u32 offset
 *                 (the sandbox's Wasm module, for a child whose node lacks it, in chunks)
 * GET_OBJECTS (5): 16-byte capability, u16 count (1..{@value #MAX_OBJECTS}),
 *                 count × (20-byte Git id, s64 offset; -1 asks the object's header only)
 *                 (the sandbox's files: Git objects reachable from the commit its descriptor names)
 * answer  (0x81): u8 status, then for OK:
 *                   to GET_PAGES: u16 count, count × (u32 index, 32-byte SHA-256, page bytes)
 *                   to GET_HASHES: u16 count, count × 32-byte SHA-256 (zero for a zero page)
 *                   to GET_MODULE: u32 module length, then up to {@value #MAX_CHUNK} bytes from offset
 *                   to GET_OBJECTS: u16 count (1..asked), count × (20-byte id, u8 type, u64 size,
 *                     u32 length, length bytes of the object's content from its offset): the
 *                     objects asked, in order, until {@value #MAX_CHUNK} content bytes are spent (a
 *                     prefix; its last object may be cut short, the first always has a byte if any
 *                     is left), so a large blob comes in chunks and a child asks again from there
 *                   to RELEASE: u16 0
 *                 otherwise: u16 length, UTF-8 message
 * </pre>
 *
 * A connection's requests are answered in the order they came, so a client may pipeline them (send
 * several before reading the first answer) and match answers by position.
 *
 * <p>A page travels with its hash so that a child can check a page whose hash was still pending in
 * its descriptor against what the parent hashed: damage on the way is caught either way.
 */
final class PageProtocol {
  static final int VERSION = 2;
  static final int GET_PAGES = 1;
  static final int RELEASE = 2;
  static final int GET_HASHES = 3;
  static final int GET_MODULE = 4;
  static final int GET_OBJECTS = 5;

  /**
   * Objects per GET_OBJECTS request: a resume asks a tree's subtrees, or their headers, at once.
   */
  static final int MAX_OBJECTS = 256;

  static final int GIT_ID = 20;

  /** An entry of a GET_OBJECTS answer before its content: id, type, size, length. */
  static final int OBJECT_HEADER = GIT_ID + 1 + 8 + 4;

  /** Module bytes per answer: 2 MiB, so a 30 MB CRuby module takes 15 round trips. */
  static final int MAX_CHUNK = 2 << 20;

  static final int PAGES = 0x81;
  static final int MAX_BATCH = 64;

  /** 4096 hashes: 128 KiB, a quarter of a 1 GiB memory's list per request. */
  static final int MAX_HASHES = 4096;

  static final int HASH = Descriptor.HASH_BYTES;
  static final int MAX_REQUEST =
      2 + Capability.BYTES + 2 + Math.max(4 * MAX_BATCH, (GIT_ID + 8) * MAX_OBJECTS);

  static final int OK = 0;
  static final int UNKNOWN_CAPABILITY = 1;
  static final int EXPIRED = 2;
  static final int BAD_REQUEST = 3;
  static final int NO_SUCH_PAGE = 4;

  private PageProtocol() {}

  static int maxResponse(int pageSize) {
    return 2
        + 1
        + 4
        + Math.max(
            Math.max(MAX_BATCH * (4 + HASH + pageSize), MAX_HASHES * HASH),
            2 + MAX_OBJECTS * OBJECT_HEADER + MAX_CHUNK);
  }

  /** A frame read off the wire: its type and payload. */
  record Frame(int type, byte[] payload) {}

  static Frame read(DataInputStream in, int maxLength) throws IOException {
    int len;
    try {
      len = in.readInt();
    } catch (EOFException e) {
      return null; // clean close between frames
    }
    if (len < 2 || len > maxLength) {
      throw new PageProtocolException(
          "frame length " + len + " out of bounds (max " + maxLength + ")");
    }
    int version = in.readUnsignedByte();
    if (version != VERSION) {
      throw new PageProtocolException(
          "unsupported page protocol version " + version + " (this side speaks " + VERSION + ")");
    }
    int type = in.readUnsignedByte();
    byte[] payload = new byte[len - 2];
    for (int at = 0; at < payload.length; ) {
      int n = in.read(payload, at, payload.length - at);
      if (n < 0) {
        throw new PageProtocolException("frame of " + len + " bytes truncated at byte " + (at + 6));
      }
      at += n;
    }
    return new Frame(type, payload);
  }

  static void write(DataOutputStream out, int type, byte[] payload) throws IOException {
    out.writeInt(payload.length + 2);
    out.writeByte(VERSION);
    out.writeByte(type);
    out.write(payload);
    out.flush();
  }

  static byte[] error(int status, String message) {
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    byte[] b = new byte[3 + m.length];
    b[0] = (byte) status;
    b[1] = (byte) (m.length >>> 8);
    b[2] = (byte) m.length;
    System.arraycopy(m, 0, b, 3, m.length);
    return b;
  }
}
