package dev.spindle.daemon;

import static dev.spindle.daemon.ImagesApiTest.catchApi;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot route and lineage against a stand-in {@link SnapshotService} that completes when the
 * test says, so this node runs in-process; the HTTP is still real. Checks the tag protocol the real
 * service will rely on: claim (409 when taken), 202 writing then ready, parent = the image the
 * sandbox came from, and deleting a parent with dependents.
 */
class SnapshotRouteTest {
  @TempDir Path tmp;

  /** Completes each snapshot when the test says so. */
  static final class Manual implements SnapshotService {
    final List<CompletableFuture<Void>> pending = new ArrayList<>();
    final List<Mode> modes = new ArrayList<>();

    @Override
    public synchronized CompletableFuture<Void> snapshot(NodeSandbox guest, Tag tag, Mode mode) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      pending.add(f);
      modes.add(mode);
      return f;
    }
  }

  @Test
  void snapshotsClaimTheirTagRecordTheirParentAndHoldTheParentUntilCascade() throws Exception {
    Manual service = new Manual();
    Path dir = Files.createDirectories(tmp.resolve("src"));
    Files.write(dir.resolve("guest.wasm"), SampleGuest.wasm());
    DaemonConfig config =
        DaemonConfig.defaults(new SpindleHome(tmp.resolve("home"))).listen("127.0.0.1:0");
    try (Daemon d =
        Daemon.start(
            config,
            RemoteOptions.defaults(config),
            new AccessOptions(java.util.List.of(), java.util.List.of(tmp)),
            service)) {
      SpindleClient c = SpindleClient.connect(d.url(), d.token());
      c.makeImage(new MakeImage(dir.toString(), "base"));
      String id =
          c.createSandboxes(new CreateSandboxes(Wasm.inImage("base", "guest.wasm")))
              .getFirst()
              .id();
      assertThat(c.call(id, "next")).containsExactly(1L);

      ImageInfo writing = c.snapshot(id, new Snapshot("snap", "live", false));
      assertThat(writing.status()).isEqualTo("writing");
      assertThat(writing.kind()).isEqualTo("snapshot");
      assertThat(service.modes).containsExactly(SnapshotService.Mode.LIVE);
      ApiException taken = catchApi(() -> c.snapshot(id, new Snapshot("snap", "full", false)));
      assertThat(taken.code()).isEqualTo("tag_in_flight");
      assertThat(catchApi(() -> c.makeImage(new MakeImage(dir.toString(), "snap"))).code())
          .as("images and snapshots share one namespace")
          .isEqualTo("tag_in_flight");
      service.pending.getFirst().complete(null);
      ImageInfo ready = c.awaitImage("snap", java.time.Duration.ofMinutes(1));
      assertThat(ready.status()).isEqualTo("ready");
      assertThat(ready.parent()).isEqualTo("base");

      ApiException held = catchApi(() -> c.deleteImage("base", false));
      assertThat(held.status()).isEqualTo(409);
      assertThat(held.code()).isEqualTo("has_dependents");
      assertThat(held.getMessage()).contains("snap");
      c.deleteSandbox(id);
      c.deleteImage("base", true);
      assertThat(c.images()).isEmpty();
    }
  }
}
