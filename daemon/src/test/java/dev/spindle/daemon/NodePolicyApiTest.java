package dev.spindle.daemon;

import static dev.spindle.daemon.ImagesApiTest.catchApi;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import dev.spindle.store.SpindleHome;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A token holder runs sandboxes but cannot use the node to read its files or reach other hosts:
 * local paths only under --allow-path (here the test's directory, as DaemonProcess sets it), URLs
 * only at --peer nodes (none here). Refusals are the same whether a path exists or not.
 */
class NodePolicyApiTest {
  @TempDir static Path tmp;
  static DaemonProcess node;
  static SpindleClient client;

  @BeforeAll
  static void start() throws Exception {
    node = DaemonProcess.start(tmp.resolve("home"));
    client = node.client();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void imageSourcesOutsideTheAllowedPathsAreRefusedAlikeWhetherTheyExistOrNot() throws Exception {
    ApiException exists = catchApi(() -> client.makeImage(new MakeImage("/etc", "etc")));
    ApiException absent =
        catchApi(() -> client.makeImage(new MakeImage("/etc/no-such-dir-here", "absent")));
    assertThat(exists.status()).isEqualTo(403);
    assertThat(exists.code()).isEqualTo("path_not_allowed");
    assertThat(absent.getMessage()).isEqualTo(exists.getMessage());
    assertThat(catchApi(() -> client.makeImage(new MakeImage("file:///etc", "etc2"))).code())
        .isEqualTo("path_not_allowed");
    assertThat(catchApi(() -> client.makeImage(new MakeImage(tmp + "/../../etc", "climb"))).code())
        .isEqualTo("path_not_allowed");

    // A link inside the allowed directory that points out is followed here, and refused.
    Path link = Files.createSymbolicLink(tmp.resolve("etc-link"), Path.of("/etc"));
    assertThat(catchApi(() -> client.makeImage(new MakeImage(link.toString(), "linked"))).code())
        .isEqualTo("path_not_allowed");

    Path inside = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(inside.resolve("a.txt"), "a\n");
    assertThat(client.makeImage(new MakeImage(inside.toString(), "inside")).status())
        .isEqualTo("ready");
  }

  @Test
  void urlsThatAreNotPeersAreNeverFetched() throws Exception {
    for (String url :
        new String[] {
          "http://127.0.0.1:1/repo.git", "https://169.254.169.254/latest", "ssh://10.0.0.1/r"
        }) {
      ApiException e = catchApi(() -> client.makeImage(new MakeImage(url, "remote")));
      assertThat(e.status()).as(url).isEqualTo(403);
      assertThat(e.code()).as(url).isEqualTo("not_a_peer");
    }
    assertThat(catchApi(() -> client.makeImage(new MakeImage("github.com:x/y.git", "scp"))).code())
        .isEqualTo("bad_field");
  }

  @Test
  void aModuleFileIsReadOnlyUnderTheAllowedPaths() throws Exception {
    ApiException secret =
        catchApi(() -> client.createSandboxes(new CreateSandboxes(Wasm.file("/etc/shadow"))));
    ApiException absent =
        catchApi(() -> client.createSandboxes(new CreateSandboxes(Wasm.file("/etc/nothing"))));
    assertThat(secret.status()).isEqualTo(403);
    assertThat(secret.code()).isEqualTo("path_not_allowed");
    assertThat(absent.getMessage()).isEqualTo(secret.getMessage()).doesNotContain("shadow");
    Path link = Files.createSymbolicLink(tmp.resolve("shadow-link"), Path.of("/etc/shadow"));
    assertThat(
            catchApi(() -> client.createSandboxes(new CreateSandboxes(Wasm.file(link.toString()))))
                .code())
        .isEqualTo("path_not_allowed");

    Path wasm = Files.write(tmp.resolve("guest.wasm"), TestGuests.reactor("counter"));
    assertThat(client.createSandboxes(new CreateSandboxes(Wasm.file(wasm.toString())))).hasSize(1);
  }

  @Test
  void theNodeKeyIsServedWithoutAToken() throws Exception {
    RawHttp.Answer a = RawHttp.send("GET", node.url + "/v1/node/key", null, null);
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.json().path("algorithm").asText()).isEqualTo("Ed25519");
    assertThat(java.util.Base64.getDecoder().decode(a.json().path("public_key").asText()))
        .isEqualTo(NodeKey.loadOrCreate(new SpindleHome(tmp.resolve("home"))).publicKey());
  }
}
