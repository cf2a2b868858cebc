package dev.spindle.image.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ed25519 signatures: a good one passes; unsigned, other key, altered image or signature refused.
 */
class ImageSignaturesTest {
  @TempDir Path tmp;
  Path image;
  Path key;

  private Path make(String name, String content) throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src-" + name));
    Files.writeString(src.resolve("f.txt"), content);
    Path img = tmp.resolve(name + ".img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE).make(src.toString(), img);
    return img;
  }

  @BeforeEach
  void setUp() throws IOException {
    image = make("signed", "signed content\n");
    key = tmp.resolve("key");
    ImageSignatures.newKey(key);
  }

  @Test
  void aSignedImageVerifiesWithItsKeyAndThePrivateKeyIsPrivate() throws IOException {
    ImageSignatures.sign(image, key);
    assertThat(ImageSignatures.verify(image, tmp.resolve("key.pub"))).hasSize(16);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
        .isEqualTo("rw-------");
    assertThatThrownBy(() -> ImageSignatures.newKey(key)).hasMessageContaining("not overwriting");
  }

  @Test
  void anUnsignedImageIsRefused() {
    assertThatThrownBy(() -> ImageSignatures.verify(image, tmp.resolve("key.pub")))
        .isInstanceOf(ImageSignatures.RefusedException.class)
        .hasMessageContaining("is unsigned");
  }

  @Test
  void aSignatureByAnotherKeyIsRefused() throws IOException {
    Path other = tmp.resolve("other");
    ImageSignatures.newKey(other);
    ImageSignatures.sign(image, other);
    assertThatThrownBy(() -> ImageSignatures.verify(image, tmp.resolve("key.pub")))
        .isInstanceOf(ImageSignatures.RefusedException.class)
        .hasMessageContaining("not by the trusted key");
  }

  @Test
  void anImageReplacedAfterSigningIsRefused() throws IOException {
    ImageSignatures.sign(image, key);
    Files.copy(make("other", "other content\n"), image, StandardCopyOption.REPLACE_EXISTING);
    assertThatThrownBy(() -> ImageSignatures.verify(image, tmp.resolve("key.pub")))
        .isInstanceOf(ImageSignatures.RefusedException.class)
        .hasMessageContaining("does not match its commit and root");
  }

  @Test
  void anAlteredSignatureIsRefused() throws IOException {
    Path sig = ImageSignatures.sign(image, key);
    String text = Files.readString(sig);
    int at = text.indexOf("signature=") + "signature=".length();
    char c = text.charAt(at) == 'A' ? 'B' : 'A';
    Files.writeString(sig, text.substring(0, at) + c + text.substring(at + 1));
    assertThatThrownBy(() -> ImageSignatures.verify(image, tmp.resolve("key.pub")))
        .isInstanceOf(ImageSignatures.RefusedException.class)
        .hasMessageContaining("does not match");
  }
}
