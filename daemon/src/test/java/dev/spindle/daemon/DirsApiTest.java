package dev.spindle.daemon;

import static dev.spindle.daemon.ImagesApiTest.catchApi;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.Dir;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.SpindleClient;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sandboxes given directories over the API of a real daemon process (a C reactor that writes,
 * reads, deletes and counts files): an image read-only, an image under a private writable layer, a
 * scratch directory; across snapshot, branches (isolation between siblings and from the parent's
 * later writes) and a restart of the node.
 */
@Requires(Tool.CLANG)
class DirsApiTest {
  private static final int DATA = 0;
  private static final int APP = 1;
  private static final int HOME = 2;
  private static final long ENOENT = -44;
  private static final long EROFS = -69;

  @TempDir Path tmp;

  private static long call(SpindleClient c, String id, String export, long... args) {
    return c.call(id, export, args).getFirst();
  }

  @Test
  void filesSnapshotAndBranchWithTheSandboxAndSurviveARestart() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("image-src"));
    Files.writeString(src.resolve("f1"), "7");
    Files.writeString(src.resolve("f2"), "8");
    Path home = tmp.resolve("home");
    List<Dir> dirs =
        List.of(
            Dir.image("/data", "files"), Dir.writableImage("/app", "files"), Dir.scratch("/home"));
    CreateSandboxes req =
        new CreateSandboxes(Wasm.bytes(TestGuests.reactor("files"))).withDirs(dirs);
    try (DaemonProcess node = DaemonProcess.start(home)) {
      SpindleClient c = node.client();
      c.makeImage(new MakeImage(src.toString(), "files"));
      List<String> two =
          c
              .createSandboxes(
                  new CreateSandboxes(Wasm.bytes(TestGuests.reactor("files")), null, null, 2, null)
                      .withDirs(dirs))
              .stream()
              .map(s -> s.id())
              .toList();
      String id = two.get(0);

      assertThat(call(c, id, "read_file", DATA, 1)).isEqualTo(7);
      assertThat(call(c, id, "write_file", DATA, 3, 1))
          .as("an image without 'writable' is read-only")
          .isEqualTo(EROFS);
      assertThat(call(c, id, "write_file", APP, 1, 70)).isZero();
      assertThat(call(c, id, "remove_file", APP, 2)).isZero();
      assertThat(call(c, id, "write_file", HOME, 1, 100)).isZero();
      assertThat(call(c, id, "count", APP)).isEqualTo(1);
      assertThat(call(c, two.get(1), "read_file", APP, 1))
          .as("each sandbox has its own layer")
          .isEqualTo(7);
      assertThat(call(c, two.get(1), "read_file", HOME, 1)).isEqualTo(ENOENT);

      assertThat(c.sandbox(id).privateFileBytes())
          .as(
              "f1 '70' in the layer, f1 '100' in scratch (the layer's "
                  + "whiteout for f2 is empty)")
          .isEqualTo(5);
      assertThat(c.metrics()).contains("spindle_files_private_bytes 5");
      c.snapshot(id, new Snapshot("with-files", "live", true));
      assertThat(call(c, id, "write_file", APP, 1, 71)).isZero();
      assertThat(call(c, id, "write_file", HOME, 2, 200)).isZero();

      List<String> kids =
          c.createSandboxes(CreateSandboxes.branch("with-files", 2)).stream()
              .map(s -> s.id())
              .toList();
      String a = kids.get(0);
      String b = kids.get(1);
      assertThat(call(c, a, "read_file", APP, 1))
          .as("the snapshot's instant, not the parent's later write")
          .isEqualTo(70);
      assertThat(call(c, a, "read_file", APP, 2))
          .as("a deletion in the layer stays deleted")
          .isEqualTo(ENOENT);
      assertThat(call(c, a, "read_file", HOME, 2)).isEqualTo(ENOENT);
      assertThat(call(c, a, "read_file", DATA, 2)).isEqualTo(8);
      assertThat(call(c, a, "write_file", HOME, 3, 300)).isZero();
      assertThat(call(c, a, "remove_file", HOME, 1)).isZero();
      assertThat(call(c, b, "read_file", HOME, 1))
          .as("siblings never see each other's writes")
          .isEqualTo(100);
      assertThat(call(c, b, "read_file", HOME, 3)).isEqualTo(ENOENT);
      assertThat(call(c, id, "read_file", HOME, 3)).as("nor does the parent").isEqualTo(ENOENT);
      assertThat(call(c, id, "read_file", APP, 1)).isEqualTo(71);
      assertThat(c.sandbox(b).privateFileBytes()).as("a branch has written nothing").isZero();
      assertThat(c.sandbox(b).sharedFileBytes())
          .as("below /app: f1 '70' (f2 deleted); below /home: f1 '100'")
          .isEqualTo(5);
      assertThat(c.metrics()).contains("spindle_files_shared_bytes");

      // A snapshot of a branch: its layer over the snapshot's layer over the image, its scratch
      // tree with a deletion; a branch of it sees both deletions.
      c.snapshot(a, new Snapshot("grandchild-files", "full", true));
      String g = c.createSandboxes(CreateSandboxes.branch("grandchild-files", 1)).getFirst().id();
      assertThat(call(c, g, "read_file", APP, 1)).isEqualTo(70);
      assertThat(call(c, g, "read_file", APP, 2))
          .as("the image's f2, still hidden")
          .isEqualTo(ENOENT);
      assertThat(call(c, g, "read_file", HOME, 1)).as("deleted by its parent").isEqualTo(ENOENT);
      assertThat(call(c, g, "read_file", HOME, 3)).isEqualTo(300);
      assertThat(call(c, g, "count", HOME)).isEqualTo(1);
      c.deleteSandbox(g);
      c.deleteSandbox(a);
      node.kill9();
    }
    try (DaemonProcess node = DaemonProcess.start(home)) {
      SpindleClient c = node.client();
      String child = c.createSandboxes(CreateSandboxes.branch("with-files", 1)).getFirst().id();
      assertThat(call(c, child, "read_file", APP, 1)).as("after a restart").isEqualTo(70);
      assertThat(call(c, child, "read_file", HOME, 1)).isEqualTo(100);
      assertThat(call(c, child, "read_file", DATA, 1)).isEqualTo(7);
      assertThat(call(c, child, "count", HOME)).isEqualTo(1);
      assertThat(entries(home.resolve("files/live")))
          .as("only the new child's layer and scratch dir")
          .isEqualTo(2);
      c.deleteSandbox(child);
      assertThat(entries(home.resolve("files/live"))).isZero();

      assertThat(
              catchApi(
                      () ->
                          c.createSandboxes(
                              req.withDirs(List.of(new Dir("/x", "/etc", null, null)))))
                  .code())
          .as("no host paths: 'image' is a tag")
          .isEqualTo("bad_tag");
      assertThat(
              catchApi(
                      () ->
                          c.createSandboxes(
                              req.withDirs(List.of(new Dir("/x/../y", null, null, true)))))
                  .getMessage())
          .contains("dirs[0].guest");
      assertThat(
              catchApi(
                      () ->
                          c.createSandboxes(
                              req.withDirs(List.of(new Dir("/x", "files", null, true)))))
                  .getMessage())
          .contains("exactly one of");
    }
  }

  private static long entries(java.nio.file.Path dir) throws java.io.IOException {
    try (var list = Files.list(dir)) {
      return list.count();
    }
  }
}
