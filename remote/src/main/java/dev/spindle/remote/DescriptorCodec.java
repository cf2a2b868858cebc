package dev.spindle.remote;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;
import java.util.zip.CRC32C;

/**
 * The descriptor's wire and file encoding (big-endian). Version 2, written:
 *
 * <pre>
 *   4  magic "SPDS"        1  version (2)
 *   4  pages N
 *   4  pending-hash bitset length P, P bytes (BitSet.toByteArray)
 *   4  zero-page bitset length Z, Z bytes
 *   32×K SHA-256 of each page neither zero nor pending, ascending (K = N - zero - pending)
 *   4  dropped-segment bitset length L, L bytes
 *   4  state length S, S bytes (JSON)
 *   2  host length H, H bytes (UTF-8)   4 port
 *   16 capability          8  expiry (epoch ms)
 *   4  CRC32C of everything before
 * </pre>
 *
 * Version 1 (still read) had N × 32 hash bytes, zero for a zero page, in place of the bitsets and
 * hashes. Decoding checks every length against what is left and names the byte offset of a problem.
 */
public final class DescriptorCodec {
  static final byte[] MAGIC = "SPDS".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 2;

  /** 65536 Wasm pages = 4 GiB, the most a 32-bit memory has. */
  static final int MAX_PAGES = 65536;

  static final int MAX_STATE = 64 << 20;
  private static final int HASH = Descriptor.HASH_BYTES;

  private DescriptorCodec() {}

  public static byte[] encode(Descriptor d) {
    BitSet zero = new BitSet(d.pages());
    for (int i = 0; i < d.pages(); i++) {
      if (d.isZero(i)) {
        zero.set(i);
      }
    }
    byte[] pending = d.pendingHashes().toByteArray();
    byte[] zeros = zero.toByteArray();
    byte[] dropped = d.droppedSegments().toByteArray();
    byte[] host = d.host().getBytes(StandardCharsets.UTF_8);
    int hashed = d.pages() - zero.cardinality() - d.pendingHashes().cardinality();
    // Sized exactly and written once: a 1 GiB memory's descriptor is half a megabyte.
    ByteBuffer out =
        ByteBuffer.allocate(
            MAGIC.length
                + 1
                + 4
                + 4
                + pending.length
                + 4
                + zeros.length
                + hashed * HASH
                + 4
                + dropped.length
                + 4
                + d.state().length
                + 2
                + host.length
                + 4
                + Capability.BYTES
                + 8
                + 4);
    out.put(MAGIC).put((byte) VERSION).putInt(d.pages());
    out.putInt(pending.length).put(pending).putInt(zeros.length).put(zeros);
    byte[] all = d.pageHashes();
    for (int i = 0; i < d.pages(); i++) {
      if (!zero.get(i) && !d.isPending(i)) {
        out.put(all, i * HASH, HASH);
      }
    }
    out.putInt(dropped.length).put(dropped);
    out.putInt(d.state().length).put(d.state());
    out.putShort((short) host.length).put(host);
    out.putInt(d.port()).put(d.capability().bytes()).putLong(d.expiresAtMillis());
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    out.putInt((int) crc.getValue());
    return out.array();
  }

  /** Decodes and checks a descriptor; throws {@link DescriptorException} naming the offset. */
  public static Descriptor decode(byte[] b) throws DescriptorException {
    ByteBuffer in = ByteBuffer.wrap(b);
    try {
      for (int i = 0; i < MAGIC.length; i++) {
        if (in.get() != MAGIC[i]) {
          throw new DescriptorException(i, "wrong magic: not a Spindle descriptor");
        }
      }
      int version = Byte.toUnsignedInt(in.get());
      if (version != 1 && version != VERSION) {
        throw new DescriptorException(4, "unsupported descriptor version " + version);
      }
      if (b.length < 4) {
        throw new DescriptorException(0, "truncated");
      }
      CRC32C crc = new CRC32C();
      crc.update(b, 0, b.length - 4);
      if ((int) crc.getValue() != ByteBuffer.wrap(b, b.length - 4, 4).getInt()) {
        throw new DescriptorException(b.length - 4, "checksum mismatch: descriptor damaged");
      }
      int pages = in.getInt();
      if (pages < 0 || pages > MAX_PAGES) {
        throw new DescriptorException(5, "page count " + pages + " out of range");
      }
      byte[] hashes;
      BitSet pending;
      if (version == 1) {
        hashes = take(in, (long) pages * HASH, "page hashes");
        pending = new BitSet();
      } else {
        pending = bits(in, pages, "pending hashes");
        BitSet zero = bits(in, pages, "zero pages");
        if (zero.intersects(pending)) {
          BitSet both = (BitSet) zero.clone();
          both.and(pending);
          throw new DescriptorException(
              in.position(), "page " + both.nextSetBit(0) + " is both zero and pending");
        }
        hashes = new byte[pages * HASH];
        // The hashes of the pages neither zero nor pending, in page order: read a run of such
        // pages at a time (one copy per run, not per page: a child's resume decodes this first).
        BitSet absent = (BitSet) zero.clone();
        absent.or(pending);
        int i = absent.nextClearBit(0);
        while (i < pages) {
          int next = absent.nextSetBit(i);
          int end = next < 0 ? pages : Math.min(pages, next);
          int at = in.position();
          int have = in.remaining() / HASH;
          if (have < end - i) {
            int missing = i + have;
            throw new DescriptorException(
                at + have * HASH, "page hashes: page " + missing + "'s hash is missing");
          }
          in.get(hashes, i * HASH, (end - i) * HASH);
          for (int k = i; k < end; k++) {
            if (Arrays.equals(hashes, k * HASH, k * HASH + HASH, ZERO_HASH, 0, HASH)) {
              throw new DescriptorException(
                  at + (k - i) * HASH,
                  "page " + k + " has an all-zero hash but is not a zero page");
            }
          }
          i = absent.nextClearBit(end);
        }
      }
      BitSet dropped = BitSet.valueOf(take(in, in.getInt(), "dropped segments"));
      int stateLen = in.getInt();
      if (stateLen > MAX_STATE) {
        throw new DescriptorException(
            in.position() - 4, "state of " + stateLen + " bytes is too large");
      }
      byte[] state = take(in, stateLen, "state");
      int hostLen = Short.toUnsignedInt(in.getShort());
      String host = new String(take(in, hostLen, "host"), StandardCharsets.UTF_8);
      int port = in.getInt();
      if (port < 0 || port > 65535) {
        throw new DescriptorException(in.position() - 4, "port " + port + " out of range");
      }
      Capability cap = Capability.of(take(in, Capability.BYTES, "capability"));
      long expires = in.getLong();
      if (in.remaining() != 4) {
        throw new DescriptorException(
            in.position(), (in.remaining() - 4) + " unexpected trailing bytes");
      }
      return new Descriptor(pages, hashes, pending, dropped, state, host, port, cap, expires);
    } catch (BufferUnderflowException e) {
      throw new DescriptorException(in.position(), "truncated");
    }
  }

  private static BitSet bits(ByteBuffer in, int pages, String what) throws DescriptorException {
    int at = in.position();
    BitSet bits = BitSet.valueOf(take(in, in.getInt(), what));
    if (bits.length() > pages) {
      throw new DescriptorException(at, what + ": page " + (bits.length() - 1) + " of " + pages);
    }
    return bits;
  }

  private static final byte[] ZERO_HASH = new byte[HASH];

  private static byte[] take(ByteBuffer in, long len, String what) throws DescriptorException {
    if (len < 0 || len > in.remaining()) {
      throw new DescriptorException(
          in.position(), what + ": " + len + " bytes announced, " + in.remaining() + " left");
    }
    byte[] b = new byte[(int) len];
    in.get(b);
    return b;
  }
}
