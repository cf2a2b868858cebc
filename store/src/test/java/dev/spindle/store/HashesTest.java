package dev.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HashesTest {
  @Test
  void knownDigests() {
    assertThat(Hashes.sha256Hex(new byte[0]))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(Hashes.sha256Hex("abc".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  @Test
  void incrementalMatchesOneShot() {
    var md = Hashes.sha256();
    md.update("a".getBytes(StandardCharsets.US_ASCII));
    md.update("bc".getBytes(StandardCharsets.US_ASCII));
    assertThat(md.digest()).isEqualTo(Hashes.sha256("abc".getBytes(StandardCharsets.US_ASCII)));
  }
}
