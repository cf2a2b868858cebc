package dev.spindle.daemon;

import static dev.spindle.daemon.ImagesApiTest.catchApi;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.Dir;
import dev.spindle.client.Api.Fork;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Volume;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Volumes over the API of a real daemon process: a host directory the operator lends by name
 * ({@code --volume shared=DIR}) is shared by a sandbox and its branches (never copied), recorded by
 * name in a snapshot (a restarted node without it refuses the branch; one lending the name
 * elsewhere opens that), refused by remote fork, and never reached by a host path or a link out of
 * it. The host directory itself is the oracle for what the guest wrote.
 */
@Requires(Tool.CLANG)
class VolumesApiTest {
  private static final int DATA = 0;
  private static final int HOME = 2;

  @TempDir Path tmp;

  private static long call(SpindleClient c, String id, String export, long... args) {
    return c.call(id, export, args).getFirst();
  }

  private static String branch(SpindleClient c, String tag) {
    return c.createSandboxes(CreateSandboxes.branch(tag, 1)).getFirst().id();
  }

  @Test
  void aVolumeIsSharedByBranchesRecordedByNameAndNeverTravels() throws Exception {
    Path vol = Files.createDirectories(tmp.resolve("vol"));
    Files.writeString(vol.resolve("f1"), "7");
    Path secret = Files.writeString(tmp.resolve("secret"), "42");
    Files.createSymbolicLink(vol.resolve("f9"), secret);
    Path home = tmp.resolve("home");
    CreateSandboxes req =
        new CreateSandboxes(Wasm.bytes(TestGuests.reactor("files")))
            .withDirs(List.of(Dir.scratch("/data"), Dir.volume("/home", "shared")));
    try (DaemonProcess node = DaemonProcess.start(home, "--volume", "shared=" + vol)) {
      SpindleClient c = node.client();
      String id = c.createSandboxes(req).getFirst().id();
      assertThat(call(c, id, "read_file", HOME, 1)).as("the operator's file").isEqualTo(7);
      assertThat(call(c, id, "read_file", HOME, 9))
          .as("a link in the volume leading out of it is not followed")
          .isNegative();
      assertThat(call(c, id, "write_file", HOME, 2, 100)).isZero();
      assertThat(Files.readString(vol.resolve("f2"))).isEqualTo("100");
      assertThat(call(c, id, "write_file", DATA, 1, 5)).isZero();
      assertThat(c.sandbox(id).volumes())
          .containsExactly(new Volume("/home", "shared", "shared", "refused"));
      assertThat(c.sandbox(id).privateFileBytes())
          .as("the scratch file only: a volume is not the sandbox's own")
          .isEqualTo(1);

      c.snapshot(id, new Snapshot("vs", "full", true));
      String state = Files.readString(home.resolve("snapshots/vs/state.json"));
      assertThat(state)
          .as("recorded by name, not by host path")
          .contains("files/volumes/shared")
          .doesNotContain(vol.toString());
      assertThat(call(c, id, "write_file", HOME, 3, 300)).isZero();
      assertThat(call(c, id, "write_file", DATA, 1, 6)).isZero();

      String child = branch(c, "vs");
      assertThat(call(c, child, "read_file", HOME, 3))
          .as("shared: the parent's write after the snapshot is seen")
          .isEqualTo(300);
      assertThat(call(c, child, "read_file", DATA, 1))
          .as("while its scratch directory is the snapshot's")
          .isEqualTo(5);
      assertThat(call(c, child, "write_file", HOME, 4, 400)).isZero();
      assertThat(call(c, id, "read_file", HOME, 4)).isEqualTo(400);
      assertThat(Files.readString(vol.resolve("f4"))).isEqualTo("400");
      assertThat(c.sandbox(child).volumes()).extracting(Volume::volume).containsExactly("shared");

      for (String s : List.of(id, child)) {
        ApiException e = catchApi(() -> c.fork(s, new Fork(null, null, null)));
        assertThat(e.status()).isEqualTo(409);
        assertThat(e.code()).isEqualTo("volume_not_forkable");
        assertThat(e.getMessage()).contains("[shared]").doesNotContain(vol.toString());
      }

      ApiException unknown =
          catchApi(() -> c.createSandboxes(req.withDirs(List.of(Dir.volume("/home", "nope")))));
      assertThat(unknown.status()).isEqualTo(400);
      assertThat(unknown.code()).isEqualTo("unknown_volume");
      assertThat(unknown.getMessage()).contains("dirs[0].volume");
      assertThat(
              catchApi(
                      () ->
                          c.createSandboxes(
                              req.withDirs(List.of(Dir.volume("/home", vol.toString())))))
                  .code())
          .as("a host path is no volume name")
          .isEqualTo("unknown_volume");
      assertThat(
              catchApi(
                      () ->
                          c.createSandboxes(
                              req.withDirs(List.of(new Dir("/home", "img", null, null, "shared")))))
                  .getMessage())
          .contains("exactly one of");
      assertThat(
              catchApi(
                      () ->
                          c.createSandboxes(
                              req.withDirs(List.of(new Dir("/home", null, true, null, "shared")))))
                  .getMessage())
          .contains("dirs[0].writable");
      node.kill9();
    }
    assertThat(vol.resolve("f2")).as("a volume outlives its sandboxes").exists();

    try (DaemonProcess node = DaemonProcess.start(home)) {
      SpindleClient c = node.client();
      ApiException missing = catchApi(() -> branch(c, "vs"));
      assertThat(missing.status()).isEqualTo(409);
      assertThat(missing.code()).isEqualTo("volume_missing");
      assertThat(missing.getMessage()).contains("'shared'").contains("/home");
      assertThat(catchApi(() -> c.createSandboxes(req)).code()).isEqualTo("unknown_volume");
    }

    Path moved = Files.createDirectories(tmp.resolve("moved"));
    Files.writeString(moved.resolve("f1"), "9");
    try (DaemonProcess node = DaemonProcess.start(home, "--volume", "shared=" + moved)) {
      SpindleClient c = node.client();
      String child = branch(c, "vs");
      assertThat(call(c, child, "read_file", HOME, 1))
          .as("the name decides: the directory the node lends as 'shared' now")
          .isEqualTo(9);
      assertThat(call(c, child, "read_file", DATA, 1)).isEqualTo(5);
    }
  }
}
