package dev.spindle.daemon.e2b;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.daemon.DaemonProcess;
import dev.spindle.fuse.MountPoints;
import dev.spindle.store.SpindleCache;
import dev.spindle.testing.BusyboxRoot;
import dev.spindle.testing.Requirements;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A container sandbox through E2B's own SDK ({@code e2b} 2.51.0) against a real node started with
 * {@code --containers}: a template naming a busybox image made here starts a runc container over
 * it; commands, files, background commands, stdin and kill go through the SDK ({@code
 * e2b/container.cjs}); runc, the mount table and the node's state directory are the witnesses that
 * kill leaves nothing behind.
 */
@Requires({Tool.E2B_SDK, Tool.FUSE, Tool.RUNC, Tool.BUSYBOX})
class E2bContainerSdkTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path tmp;
  private static DaemonProcess node;
  private static Path modules;
  private static Path script;
  private static Path home;

  @BeforeAll
  static void start() throws IOException, URISyntaxException {
    modules = SpindleCache.root().resolve("guests/npm/node_modules");
    Requirements.require(
        Tool.E2B_SDK,
        Files.exists(modules.resolve("e2b/package.json")),
        "E2B's SDK is not in " + modules + " (run scripts/npm-guests)");
    script = Path.of(E2bContainerSdkTest.class.getResource("/e2b/container.cjs").toURI());
    // The image: a static busybox and a few applets.
    Path root =
        BusyboxRoot.make(tmp.resolve("busybox-root"), "sh", "ls", "cat", "echo", "sleep", "pwd");
    Files.writeString(
        Files.createDirectories(root.resolve("etc")).resolve("motd"), "from the image\n");
    home = tmp.resolve("home");
    node = DaemonProcess.startOn(home, "127.0.0.1", "1g", "--containers");
    node.client().makeImage(new MakeImage(root.toString(), "busybox"));
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (node != null) {
      node.close();
      // The node was killed (SIGKILL): what a failed scenario left is reaped as a restarted node
      // would.
      try {
        new dev.spindle.container.ContainerRuntime(home.resolve("containers")).reap();
      } catch (IOException e) {
        throw new AssertionError("cannot reap the node's containers", e);
      }
    }
  }

  private static JsonNode scenario(String name) throws IOException, InterruptedException {
    return scenario(node, name);
  }

  private static JsonNode scenario(DaemonProcess node, String name)
      throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder("node", script.toString(), name).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("NODE_PATH", modules.toString());
    env.put("E2B_API_URL", node.url + "/e2b");
    env.put("E2B_SANDBOX_URL", node.url + "/e2b/sandbox");
    env.put("E2B_API_KEY", node.token());
    env.put("SPINDLE_IMAGE", "busybox");
    Process p = pb.start();
    String out;
    try {
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(5, TimeUnit.MINUTES), "scenario " + name + " did not end");
    } finally {
      p.destroyForcibly();
    }
    assertEquals(0, p.exitValue(), "scenario " + name + " failed:\n" + out);
    String line =
        out.lines()
            .filter(l -> l.startsWith("RESULT "))
            .findFirst()
            .orElseThrow(
                () -> new AssertionError("scenario " + name + " printed no result:\n" + out));
    return JSON.readTree(line.substring("RESULT ".length()));
  }

  @Test
  void aNodeWithoutContainersRefusesAnImageTemplate() throws Exception {
    DaemonProcess closed = DaemonProcess.startOn(tmp.resolve("closed-home"), "127.0.0.1", "256m");
    try {
      closed.client().makeImage(new MakeImage(tmp.resolve("busybox-root").toString(), "busybox"));
      Set<String> before = runcContainers();
      JsonNode r = scenario(closed, "refused");
      assertTrue(
          r.at("/create/message").asText().contains("this node runs no containers"), r.toString());
      assertEquals(before, runcContainers());
    } finally {
      closed.close();
    }
  }

  private static Set<String> runcContainers() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("runc", "list", "-q").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    return new HashSet<>(out.lines().filter(l -> !l.isBlank()).toList());
  }

  @Test
  void aContainerSandboxRunsCommandsOverTheImageAndKillRemovesIt() throws Exception {
    Set<String> before = runcContainers();
    JsonNode r = scenario("container");
    assertTrue(r.get("id").asText().startsWith("ct-"), r.toString());

    // ls / shows the image's root (and what runc mounts), exit code 0.
    assertEquals(0, r.at("/ls/exitCode").asInt(), r.get("ls").toString());
    List<String> names = List.of(r.at("/ls/stdout").asText().split("\\s+"));
    assertTrue(names.containsAll(List.of("bin", "etc", "proc")), names.toString());
    // A non-zero exit is the SDK's CommandExitError, with both streams.
    assertEquals("CommandExitError", r.at("/exit3/cls").asText(), r.get("exit3").toString());
    assertEquals(3, r.at("/exit3/exitCode").asInt());
    assertEquals("hi\n", r.at("/exit3/stdout").asText());
    assertEquals("err\n", r.at("/exit3/stderr").asText());
    assertEquals("hello\n/bin\n", r.at("/envs/stdout").asText(), r.get("envs").toString());

    // files.write is what cat reads; a command's file is what files.read gives.
    assertEquals("written through files\n", r.at("/cat/stdout").asText(), r.get("cat").toString());
    assertEquals("from-command\n", r.get("readBack").asText());
    assertEquals("[\"note.txt\",\"out.txt\"]", r.get("listed").toString());

    // Output came while the command ran (it then waited for stdin), and stdin reached it.
    assertEquals("first\n", r.get("beforeInput").asText());
    assertEquals("first\ngot typed\n", r.get("slowEnd").asText());

    // The background command was listed, killed, and left the list.
    int pid = r.get("bgPid").asInt();
    assertTrue(r.get("running").toString().contains(Integer.toString(pid)), r.toString());
    assertTrue(r.get("killed").asBoolean());
    assertEquals("CommandExitError", r.at("/bgEnd/cls").asText(), r.get("bgEnd").toString());
    assertEquals("[]", r.get("after").toString());
    assertFalse(r.get("killedAgain").asBoolean(), "a command that ended is not found");

    assertEquals("running", r.at("/info/state").asText());
    assertEquals("busybox", r.at("/info/templateId").asText());
    assertTrue(
        r.get("sandboxes")
            .toString()
            .contains("[\"" + r.get("id").asText() + "\",\"running\",\"busybox\"]"),
        r.get("sandboxes").toString());
    // Pause is refused with a clear error at once.
    assertTrue(
        r.at("/pause/message").asText().contains("not supported for container sandbox"),
        r.get("pause").toString());
    assertTrue(
        r.at("/snapshot/message").asText().contains("not supported for container sandbox"),
        r.get("snapshot").toString());
    assertEquals(501, r.at("/fork/status").asInt(), r.get("fork").toString());
    assertEquals(501, r.at("/fork/body/code").asInt(), r.get("fork").toString());
    assertEquals(
        "SandboxNotFoundError", r.at("/infoKilled/cls").asText(), r.get("infoKilled").toString());

    // Killed: no runc container, mount or state directory of it is left.
    Set<String> left = runcContainers();
    left.removeAll(before);
    assertEquals(Set.of(), left, "runc containers left");
    Path real = home.toRealPath();
    assertTrue(
        MountPoints.list().stream()
            .noneMatch(
                m ->
                    m.startsWith(real)
                        || (m.toString().startsWith("/run/spindle/spindle-")
                            && !before.contains(m.getFileName().toString()))),
        "mounts left: " + MountPoints.list());
    Path state = home.resolve("containers");
    if (Files.isDirectory(state)) {
      try (Stream<Path> s = Files.list(state)) {
        assertEquals(List.of(), s.toList(), "container state left");
      }
    }
  }
}
