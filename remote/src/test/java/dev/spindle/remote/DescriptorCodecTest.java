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
    return new Descriptor(pages, hashes, dropped, "{\"globals\":[]}".getBytes(), "127.0.0.2", 7070,
        Capability.random(), 123456789L);
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
  void damageIsNamedWithItsOffset() {
    byte[] b = DescriptorCodec.encode(sample(4));
    byte[] magic = b.clone();
    magic[1] = 'X';
    assertThatThrownBy(() -> DescriptorCodec.decode(magic)).hasMessageContaining("at byte 1").hasMessageContaining("magic");
    byte[] flipped = b.clone();
    flipped[40] ^= 1;
    assertThatThrownBy(() -> DescriptorCodec.decode(flipped)).hasMessageContaining("checksum");
    assertThatThrownBy(() -> DescriptorCodec.decode(Arrays.copyOf(b, 30))).isInstanceOf(DescriptorException.class);
    byte[] version = b.clone();
    version[4] = 9;
    assertThatThrownBy(() -> DescriptorCodec.decode(version)).hasMessageContaining("version 9");
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
