package dev.spindle.remote;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.BufferUnderflowException;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.zip.CRC32C;

/**
 * The descriptor's wire and file encoding, version 1 (big-endian):
 *
 * <pre>
 *   4  magic "SPDS"        1  version (1)
 *   4  pages N             32×N page hashes
 *   4  dropped-segment bitset length L, L bytes (BitSet.toByteArray)
 *   4  state length S, S bytes (JSON)
 *   2  host length H, H bytes (UTF-8)   4 port
 *   16 capability          8  expiry (epoch ms)
 *   4  CRC32C of everything before
 * </pre>
 *
 * Decoding checks every length against what is left and names the byte offset of a problem.
 */
public final class DescriptorCodec {
  static final byte[] MAGIC = "SPDS".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  /** 65536 Wasm pages = 4 GiB, the most a 32-bit memory has. */
  static final int MAX_PAGES = 65536;
  static final int MAX_STATE = 64 << 20;

  private DescriptorCodec() {}

  public static byte[] encode(Descriptor d) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + d.pageHashes().length + d.state().length);
      DataOutputStream out = new DataOutputStream(bytes);
      out.write(MAGIC);
      out.writeByte(VERSION);
      out.writeInt(d.pages());
      out.write(d.pageHashes());
      byte[] dropped = d.droppedSegments().toByteArray();
      out.writeInt(dropped.length);
      out.write(dropped);
      out.writeInt(d.state().length);
      out.write(d.state());
      byte[] host = d.host().getBytes(StandardCharsets.UTF_8);
      out.writeShort(host.length);
      out.write(host);
      out.writeInt(d.port());
      out.write(d.capability().bytes());
      out.writeLong(d.expiresAtMillis());
      out.flush();
      CRC32C crc = new CRC32C();
      crc.update(bytes.toByteArray());
      out.writeInt((int) crc.getValue());
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
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
      if (version != VERSION) {
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
      byte[] hashes = take(in, (long) pages * Descriptor.HASH_BYTES, "page hashes");
      int droppedLen = in.getInt();
      BitSet dropped = BitSet.valueOf(take(in, droppedLen, "dropped segments"));
      int stateLen = in.getInt();
      if (stateLen > MAX_STATE) {
        throw new DescriptorException(in.position() - 4, "state of " + stateLen + " bytes is too large");
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
        throw new DescriptorException(in.position(), (in.remaining() - 4) + " unexpected trailing bytes");
      }
      return new Descriptor(pages, hashes, dropped, state, host, port, cap, expires);
    } catch (BufferUnderflowException e) {
      throw new DescriptorException(in.position(), "truncated");
    }
  }

  private static byte[] take(ByteBuffer in, long len, String what) throws DescriptorException {
    if (len < 0 || len > in.remaining()) {
      throw new DescriptorException(in.position(), what + ": " + len + " bytes announced, "
          + in.remaining() + " left");
    }
    byte[] b = new byte[(int) len];
    in.get(b);
    return b;
  }
}
