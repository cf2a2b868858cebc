package dev.spindle.daemon;

import static dev.spindle.daemon.ImagesApiTest.catchApi;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import dev.spindle.image.trust.ImageSignatures;
import dev.spindle.image.trust.TrustedKeys;
import dev.spindle.store.SpindleHome;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that trusts a key ({@code spindle key trust}, read on every request) starts sandboxes only
 * from images signed by it: an unsigned one is 403 {@code untrusted_image}, naming the image and
 * how to sign it; a signed one runs as before.
 */
class TrustedImagesApiTest {
  @TempDir Path tmp;

  @Test
  void sandboxesFromAnImageNeedASignatureByATrustedKeyOnceTheNodeTrustsOne() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("guest-image/bin"));
    Files.write(dir.resolve("counter.wasm"), TestGuests.reactor("counter"));
    Path home = tmp.resolve("home");
    Path key = tmp.resolve("key");
    Path other = tmp.resolve("other");
    ImageSignatures.newKey(key);
    ImageSignatures.newKey(other);
    try (DaemonProcess node = DaemonProcess.start(home)) {
      SpindleClient client = node.client();
      client.makeImage(new MakeImage(tmp.resolve("guest-image").toString(), "guests"));
      CreateSandboxes fromImage = new CreateSandboxes(Wasm.inImage("guests", "/bin/counter.wasm"));

      // No trusted key: nothing is required.
      SandboxInfo free = client.createSandboxes(fromImage).getFirst();
      assertThat(client.call(free.id(), "add", 1, 2)).containsExactly(3L);
      client.deleteSandbox(free.id());

      TrustedKeys.of(new SpindleHome(home)).trust(Path.of(key + ".pub"));
      ApiException unsigned = catchApi(() -> client.createSandboxes(fromImage));
      assertThat(unsigned.status()).isEqualTo(403);
      assertThat(unsigned.code()).isEqualTo("untrusted_image");
      assertThat(unsigned.getMessage())
          .contains("image 'guests' is unsigned")
          .contains("trusts 1 key")
          .contains("'spindle image sign guests --key KEY'");
      assertThat(client.sandboxes()).isEmpty();

      Path image = home.resolve("images/guests.img");
      ImageSignatures.sign(image, other);
      ApiException untrusted = catchApi(() -> client.createSandboxes(fromImage));
      assertThat(untrusted.status()).isEqualTo(403);
      assertThat(untrusted.code()).isEqualTo("untrusted_image");
      assertThat(untrusted.getMessage()).contains("which this node does not trust");

      ImageSignatures.sign(image, key);
      SandboxInfo signed = client.createSandboxes(fromImage).getFirst();
      assertThat(client.call(signed.id(), "add", 2, 3)).containsExactly(5L);
      client.deleteSandbox(signed.id());

      // The catalog is not a use: it lists the image whatever its signature.
      assertThat(client.image("guests").status()).isEqualTo("ready");
    }
  }
}
