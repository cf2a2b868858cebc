package dev.spindle.daemon.e2b;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.SpindleClient;
import dev.spindle.daemon.DaemonProcess;
import dev.spindle.store.SpindleCache;
import dev.spindle.testing.Requirements;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E2B's own SDK ({@code @e2b/code-interpreter} 2.8.0 on {@code e2b} 2.51.0, pinned in
 * daemon/NPM-PACKAGES and installed by scripts/npm-guests) driven by node against a real node in
 * its own process, configured only by E2B's three environment variables. The scenarios are in
 * {@code e2b/scenarios.cjs}; each prints what the SDK saw, and the node's own API is the second
 * witness. The node runs with {@code --max-timeout 20s}: the streaming scenario's cell never ends,
 * so its output can only reach the SDK while it runs.
 */
@Requires(Tool.E2B_SDK)
class E2bSdkTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path tmp;
  private static DaemonProcess node;
  private static SpindleClient spindle;
  private static Path modules;
  private static Path script;

  @BeforeAll
  static void start() throws IOException, URISyntaxException {
    modules = SpindleCache.root().resolve("guests/npm/node_modules");
    Requirements.require(
        Tool.E2B_SDK,
        Files.exists(modules.resolve("e2b/package.json"))
            && Files.exists(modules.resolve("@e2b/code-interpreter/package.json")),
        "E2B's SDKs are not in " + modules + " (run scripts/npm-guests)");
    script = Path.of(E2bSdkTest.class.getResource("/e2b/scenarios.cjs").toURI());
    node = DaemonProcess.startOn(tmp.resolve("home"), "127.0.0.1", "1g", "--max-timeout", "20s");
    spindle = node.client();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (node != null) {
      node.close();
    }
  }

  /** Runs one scenario with node and answers what it printed after {@code RESULT}. */
  private static JsonNode scenario(String name) throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder("node", script.toString(), name).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("NODE_PATH", modules.toString());
    env.put("E2B_API_URL", node.url + "/e2b");
    env.put("E2B_SANDBOX_URL", node.url + "/e2b/sandbox");
    env.put("E2B_API_KEY", node.token());
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

  private static Set<String> spindleSandboxes() {
    Set<String> ids = new HashSet<>();
    spindle.sandboxes().forEach(s -> ids.add(s.id()));
    return ids;
  }

  @Test
  void runCodeKeepsStateBetweenCalls() throws Exception {
    JsonNode r = scenario("state");
    assertTrue(r.get("first").isNull(), "an assignment has no result: " + r);
    assertEquals("(42, ['a', 'b'])", r.get("second").asText());
    assertEquals(2, r.get("count").asInt());
    assertEquals("running", r.at("/info/state").asText());
    assertEquals("state", r.at("/info/metadata/scenario").asText());
    assertEquals("code-interpreter-v1", r.at("/info/templateId").asText());
    assertFalse(
        spindleSandboxes().contains(r.get("id").asText()), "killed, so gone from /v1/sandboxes");
  }

  @Test
  void outputReachesTheCallbacksWhileTheCellRuns() throws Exception {
    JsonNode r = scenario("streaming");
    // The cell never ended by itself: its limit stopped it, and still its output came first (a
    // print may arrive in more than one piece).
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    JsonNode events = r.get("events");
    for (int i = 0; i < events.size() - 1; i++) {
      String kind = events.get(i).get(0).asText();
      assertTrue(
          kind.equals("stdout") || kind.equals("stderr"), "output before the end only: " + events);
      (kind.equals("stdout") ? out : err).append(events.get(i).get(1).asText());
    }
    assertEquals("started\n", out.toString());
    assertEquals("to stderr\n", err.toString());
    assertEquals("[\"error\",\"TimeoutError\"]", events.get(events.size() - 1).toString());
    assertTrue(r.at("/error/value").asText().contains("TIMEOUT"), r.toString());
  }

  @Test
  void failuresAreTheSdksTypedErrors() throws Exception {
    JsonNode r = scenario("errors");
    assertEquals("ZeroDivisionError", r.at("/div/name").asText());
    assertEquals("division by zero", r.at("/div/value").asText());
    String tb = r.at("/div/traceback").asText();
    assertTrue(
        tb.startsWith("Traceback (most recent call last):") && tb.contains("return 1/0"), tb);
    assertEquals("NotImplementedError", r.at("/otherLanguage/name").asText());
    assertEquals("'still alive'", r.get("after").asText());
    assertTrue(r.at("/wrongKey/isAuth").asBoolean(), r.get("wrongKey").toString());
    assertEquals("SandboxNotFoundError", r.at("/connectUnknown/cls").asText());
    assertEquals("SandboxNotFoundError", r.at("/infoKilled/cls").asText());
    assertFalse(r.get("killKilled").asBoolean());
    // The SDK reads E2B's 502 for a sandbox that is gone as a timeout.
    assertTrue(r.at("/runKilled/isTimeout").asBoolean(), r.get("runKilled").toString());
    assertTrue(
        r.at("/badTemplate/message").asText().startsWith("404: template"),
        r.get("badTemplate").toString());
  }

  @Test
  void contextsAreSeparateNamespacesAndEnvsApply() throws Exception {
    JsonNode r = scenario("contexts");
    assertEquals("False", r.get("inCtx").asText());
    assertEquals("(False, 'default')", r.get("back").asText());
    assertEquals("42", r.get("ctxAgain").asText());
    assertTrue(r.get("listed").toString().contains(r.get("ctx").asText()));
    assertTrue(r.at("/removed/isNotFound").asBoolean(), r.get("removed").toString());
    assertEquals("('yes', 'now')", r.get("envs").asText());
    assertTrue(r.get("envsAfter").isNull(), "an execution's envs end with it: " + r);
  }

  @Test
  void forkedChildrenContinueTheParentWithTheirOwnRandomness() throws Exception {
    JsonNode r = scenario("fork");
    JsonNode children = r.get("children");
    assertEquals(5, children.size(), r.toString());
    Set<String> draws = new HashSet<>();
    for (JsonNode c : children) {
      String text = c.path("text").asText();
      assertTrue(
          text.startsWith("(2, "), "each child has the parent's history plus its own step: " + c);
      draws.add(text);
      assertTrue(r.get("listed").toString().contains(c.get("id").asText()));
    }
    assertEquals(5, draws.size(), "five distinct draws: " + draws);
    // The parent ran on, untouched by its children.
    assertTrue(r.get("parent").asText().startsWith("(1, "), r.get("parent").asText());
    assertFalse(
        draws.stream().anyMatch(d -> d.substring(4).equals(r.get("parent").asText().substring(4))));
    for (JsonNode c : children) {
      assertFalse(
          spindleSandboxes().contains(c.get("id").asText()), "killed, so gone from /v1/sandboxes");
    }
  }

  @Test
  void filesAreTheTreePythonSeesAndTravelWithForkAndPause() throws Exception {
    JsonNode r = scenario("files");
    assertEquals("'written by the SDK'", r.get("seenByPython").asText());
    assertEquals("written by Python", r.get("readBySdk").asText());
    assertEquals("[[\"from-sdk.txt\",\"file\"],[\"out\",\"dir\"]]", r.get("listed").toString());
    assertTrue(r.get("exists").asBoolean());
    assertTrue(r.at("/missing/isNotFound").asBoolean(), r.get("missing").toString());
    assertEquals("[\"'child 0'\",\"'child 1'\"]", r.get("childWrites").toString());
    assertEquals(
        "written by Python", r.get("parentAfterForks").asText(), "a child's write is its own");
    assertEquals("'before pause'", r.get("afterPause").asText());
    assertFalse(r.get("removed").asBoolean());
  }

  @Test
  void pauseThenConnectKeepsTheState() throws Exception {
    JsonNode r = scenario("pause");
    assertTrue(r.get("paused").asBoolean());
    assertFalse(r.get("pausedAgain").asBoolean(), "a second pause says it was paused already");
    assertEquals("[[\"" + r.get("id").asText() + "\",\"paused\"]]", r.get("listed").toString());
    assertTrue(r.at("/whilePaused/isTimeout").asBoolean(), r.get("whilePaused").toString());
    assertEquals("{'n': 4}", r.get("after").asText());
    assertEquals(r.get("id").asText(), r.get("connectedId").asText());
    assertEquals("running", r.get("state").asText());
    // The pause snapshot was a Spindle tag, dropped once resumed.
    for (ImageInfo i : spindle.images()) {
      assertFalse(i.tag().startsWith(E2bSandboxes.PAUSE_PREFIX), "left behind: " + i.tag());
    }
  }

  @Test
  void aSandboxEndsAtItsTimeout() throws Exception {
    JsonNode r = scenario("timeout");
    assertTrue(r.get("ended").asBoolean(), r.toString());
    assertEquals("SandboxNotFoundError", r.at("/info/cls").asText());
    assertTrue(r.get("keptRunning").asBoolean(), "setTimeout moved the other's end");
    assertEquals("'alive'", r.get("keptRun").asText());
  }

  @Test
  void killEndsTheSpindleSandbox() throws Exception {
    JsonNode r = scenario("kill");
    assertTrue(r.get("killed").asBoolean());
    assertFalse(r.get("running").asBoolean());
    assertFalse(r.get("listed").toString().contains(r.get("id").asText()));
    assertFalse(r.get("again").asBoolean());
    for (SandboxInfo s : spindle.sandboxes()) {
      assertNotEquals(r.get("id").asText(), s.id());
    }
  }

  @Test
  void snapshotsAreSpindleTags() throws Exception {
    JsonNode r = scenario("snapshots");
    assertEquals("e2b-test-snap", r.at("/snap/snapshotId").asText());
    assertEquals("[\"e2b-test-snap\"]", r.get("listed").toString());
    assertEquals("'from the snapshot'", r.get("fromSnapshot").asText());
    assertTrue(r.get("deleted").asBoolean());
    assertFalse(r.get("deletedAgain").asBoolean());
    assertTrue(spindle.images().stream().noneMatch(i -> i.tag().equals("e2b-test-snap")));
  }
}
