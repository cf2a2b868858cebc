package dev.spindle.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DescriptorCodecTest {
  static Descriptor sample(int pages) {
    byte[] hashes = new byte[pages * 32];
    new Random(pages).nextBytes(hashes);
    Arrays.fill(hashes, 0, Math.min(32, hashes.length), (byte) 0); // page 0 is zero
    BitSet dropped = new BitSet();
    dropped.set(2);
    return new Descriptor(
        pages,
        hashes,
        dropped,
        "{\"globals\":[]}".getBytes(),
        "127.0.0.2",
        7070,
        Capability.random(),
        123456789L);
  }

  @Test
  void roundTrip() throws Exception {
    Descriptor d = sample(16);
    byte[] b = DescriptorCodec.encode(d);
    Descriptor back = DescriptorCodec.decode(b);
    assertThat(back.pages()).isEqualTo(16);
    assertThat(back.pageHashes()).isEqualTo(d.pageHashes());
    assertThat(back.droppedSegments()).isEqualTo(d.droppedSegments());
    assertThat(back.state()).isEqualTo(d.state());
    assertThat(back.host()).isEqualTo("127.0.0.2");
    assertThat(back.port()).isEqualTo(7070);
    assertThat(back.capability()).isEqualTo(d.capability());
    assertThat(back.expiresAtMillis()).isEqualTo(123456789L);
    assertThat(back.isZero(0)).isTrue();
    // 1 GiB = 16384 pages: the descriptor is about half a megabyte.
    assertThat(DescriptorCodec.encode(sample(16384)).length).isBetween(524_288, 530_000);
  }

  @Test
  void pendingHashesTravelAsABitsetSoAFreshGiBDescribesInAFewKiB() throws Exception {
    Descriptor d = sample(16384);
    byte[] hashes = d.pageHashes().clone();
    BitSet pending = new BitSet();
    for (int i = 1; i < 16384; i++) {
      if (i % 5 != 0) {
        pending.set(i);
        Arrays.fill(hashes, i * 32, i * 32 + 32, (byte) 0);
      }
    }
    Descriptor p =
        new Descriptor(
            16384,
            hashes,
            pending,
            d.droppedSegments(),
            d.state(),
            d.host(),
            d.port(),
            d.capability(),
            d.expiresAtMillis());
    byte[] b = DescriptorCodec.encode(p);
    Descriptor back = DescriptorCodec.decode(b);
    assertThat(back.pendingHashes()).isEqualTo(pending);
    assertThat(back.pageHashes()).isEqualTo(hashes);
    assertThat(back.isZero(0)).isTrue();
    assertThat(back.isZero(1)).isFalse();
    assertThat(back.nonZeroPages()).isEqualTo(16383);
    // 3,276 hashed pages × 32 bytes plus two 2 KiB bitsets.
    assertThat(b.length).isBetween(3276 * 32, 3276 * 32 + 5000);
  }

  @Test
  void version1DescriptorsAreStillRead() throws Exception {
    Descriptor d = sample(8);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
    out.write("SPDS".getBytes());
    out.writeByte(1);
    out.writeInt(8);
    out.write(d.pageHashes());
    byte[] dropped = d.droppedSegments().toByteArray();
    out.writeInt(dropped.length);
    out.write(dropped);
    out.writeInt(d.state().length);
    out.write(d.state());
    out.writeShort(9);
    out.write("127.0.0.2".getBytes());
    out.writeInt(7070);
    out.write(d.capability().bytes());
    out.writeLong(123456789L);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(bytes.toByteArray());
    out.writeInt((int) crc.getValue());
    Descriptor back = DescriptorCodec.decode(bytes.toByteArray());
    assertThat(back.pageHashes()).isEqualTo(d.pageHashes());
    assertThat(back.pendingHashes().isEmpty()).isTrue();
    assertThat(back.capability()).isEqualTo(d.capability());
    assertThat(back.isZero(0)).isTrue();
  }

  @Test
  void damageIsNamedWithItsOffset() {
    byte[] b = DescriptorCodec.encode(sample(4));
    byte[] magic = b.clone();
    magic[1] = 'X';
    assertThatThrownBy(() -> DescriptorCodec.decode(magic))
        .hasMessageContaining("at byte 1")
        .hasMessageContaining("magic");
    byte[] flipped = b.clone();
    flipped[40] ^= 1;
    assertThatThrownBy(() -> DescriptorCodec.decode(flipped)).hasMessageContaining("checksum");
    assertThatThrownBy(() -> DescriptorCodec.decode(Arrays.copyOf(b, 30)))
        .isInstanceOf(DescriptorException.class);
    byte[] version = b.clone();
    version[4] = 9;
    assertThatThrownBy(() -> DescriptorCodec.decode(version)).hasMessageContaining("version 9");
  }

  /** {@code body} with its CRC-32C appended, as the codec ends a descriptor. */
  private static byte[] sealed(byte[] body) {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(body);
    return java.nio.ByteBuffer.allocate(body.length + 4)
        .put(body)
        .putInt((int) crc.getValue())
        .array();
  }

  /** Where page {@code page}'s hash starts in {@code b} (a random hash occurs once). */
  private static int hashOffset(byte[] b, Descriptor d, int page) {
    byte[] h = Arrays.copyOfRange(d.pageHashes(), page * 32, page * 32 + 32);
    for (int at = 0; at + 32 <= b.length; at++) {
      if (Arrays.equals(b, at, at + 32, h, 0, 32)) {
        return at;
      }
    }
    throw new AssertionError("hash of page " + page + " not found");
  }

  @Test
  void aMissingOrAllZeroPageHashIsNamedWithItsPageAndOffset() {
    Descriptor d = sample(16);
    byte[] b = DescriptorCodec.encode(d);
    int at = hashOffset(b, d, 5);

    byte[] zeroed = Arrays.copyOf(b, b.length - 4);
    Arrays.fill(zeroed, at, at + 32, (byte) 0);
    assertThatThrownBy(() -> DescriptorCodec.decode(sealed(zeroed)))
        .isInstanceOf(DescriptorException.class)
        .hasMessageContaining("page 5 has an all-zero hash")
        .hasMessageContaining("at byte " + at);

    byte[] cut = sealed(Arrays.copyOf(b, at));
    assertThatThrownBy(() -> DescriptorCodec.decode(cut))
        .isInstanceOf(DescriptorException.class)
        .hasMessageContaining("page 5's hash is missing")
        .hasMessageContaining("at byte " + at);
  }

  @FuzzTest(maxDuration = "30s")
  void decodeOnlyThrowsDescriptorException(byte[] data) {
    try {
      Descriptor d = DescriptorCodec.decode(data);
      DescriptorCodec.encode(d);
    } catch (DescriptorException expected) {
      // the contract for bad bytes
    }
  }
}
