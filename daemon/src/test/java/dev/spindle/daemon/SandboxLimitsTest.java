package dev.spindle.daemon;

import static dev.spindle.daemon.ImagesApiTest.catchApi;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.Limits;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each request's limits against the node's ceilings (400 naming the field), and the memory budget
 * of all sandboxes together (503 {@code capacity}), on real daemon processes.
 */
class SandboxLimitsTest {
  @TempDir Path tmp;

  private static final String WASM = Base64.getEncoder().encodeToString(SampleGuest.wasm());

  @Test
  void everyLimitOutOfRangeIs400NamingTheFieldAndTheNodeStaysUp() throws Exception {
    try (DaemonProcess node = DaemonProcess.start(tmp.resolve("home"))) {
      String token = node.token();
      for (long t : new long[] {0, -1, 600_001, Long.MAX_VALUE}) {
        refused(
            node,
            token,
            "{\"timeout_ms\": " + t + "}",
            "limits.timeout_ms",
            "between 1 and 600000, got " + t);
      }
      for (long p : new long[] {0, -5, 65_537}) {
        refused(
            node,
            token,
            "{\"max_memory_pages\": " + p + "}",
            "limits.max_memory_pages",
            "between 1 and 65536, got " + p);
      }
      for (long o : new long[] {0, -1, (64L << 20) + 1}) {
        refused(
            node,
            token,
            "{\"output_cap\": " + o + "}",
            "limits.output_cap",
            "between 1 and " + (64 << 20));
      }
      // At the ceilings, and with the defaults, it runs.
      RawHttp.Answer ok =
          create(
              node,
              token,
              "{\"timeout_ms\": 600000, \"max_memory_pages\": 65536, \"output_cap\": "
                  + (64 << 20)
                  + "}");
      assertThat(ok.status()).as(ok.body()).isEqualTo(201);
      String id = ok.json().path("sandboxes").get(0).path("id").asText();
      assertThat(node.client().call(id, "add", 20, 22)).containsExactly(42L);
      assertThat(create(node, token, null).status()).isEqualTo(201);
      assertThat(RawHttp.send("GET", node.url + "/healthz", null, null).status()).isEqualTo(200);
    }
  }

  @Test
  void ceilingsComeFromTheCommandLine() throws Exception {
    try (DaemonProcess node =
        DaemonProcess.start(
            tmp.resolve("home"),
            "--max-timeout",
            "5s",
            "--max-memory",
            "1MiB",
            "--max-output",
            "1k")) {
      String token = node.token();
      refused(
          node,
          token,
          "{\"timeout_ms\": 5001}",
          "limits.timeout_ms",
          "between 1 and 5000, got 5001");
      refused(
          node,
          token,
          "{\"max_memory_pages\": 17}",
          "limits.max_memory_pages",
          "between 1 and 16, got 17");
      refused(
          node,
          token,
          "{\"output_cap\": 1025}",
          "limits.output_cap",
          "between 1 and 1024, got 1025");
      assertThat(
              create(
                      node,
                      token,
                      "{\"timeout_ms\": 5000, \"max_memory_pages\": 16, \"output_cap\": 1024}")
                  .status())
          .isEqualTo(201);
      // The defaults (60 s, 256 MiB, 1 MiB) are lowered to ceilings set below them.
      assertThat(create(node, token, null).status()).isEqualTo(201);
    }
  }

  @Test
  void aGuestWritingPastTheMemoryBudgetTrapsAndNothingNewStartsUntilItsPagesAreFreed()
      throws Exception {
    // 64 pages of 64 KiB for all guests together; the filler may grow to 32 MiB on its own.
    try (DaemonProcess node = DaemonProcess.start(tmp.resolve("home"), "--memory-budget", "4MiB")) {
      SpindleClient c = node.client();
      String small =
          c.createSandboxes(
                  new CreateSandboxes(
                      Wasm.bytes(SampleGuest.wasm()), null, null, 1, new Limits(null, 8, null)))
              .getFirst()
              .id();
      c.call(small, "next");
      assertThat(c.snapshot(small, new Snapshot("warm", "live", true)).status()).isEqualTo("ready");
      String filler =
          c.createSandboxes(
                  new CreateSandboxes(
                      Wasm.bytes(TestGuests.reactor("fill")),
                      null,
                      null,
                      1,
                      new Limits(null, 512, null)))
              .getFirst()
              .id();

      // 16 MiB of writes need 256 new pages: the guest traps, the node stays up.
      ApiException trapped = catchApi(() -> c.call(filler, "fill", 16, 1));
      assertThat(trapped.status()).isGreaterThanOrEqualTo(400);
      assertThat(trapped.getMessage()).contains("memory budget is used up");
      assertThat(RawHttp.send("GET", node.url + "/healthz", null, null).status()).isEqualTo(200);

      // Full: nothing new starts, not even a branch (its first write would trap), until pages are
      // freed.
      ApiException full =
          catchApi(() -> c.createSandboxes(new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()))));
      assertThat(full.status()).isEqualTo(503);
      assertThat(full.code()).isEqualTo("capacity");
      assertThat(full.getMessage()).contains("memory budget").contains("--memory-budget");
      assertThat(catchApi(() -> c.createSandboxes(CreateSandboxes.branch("warm", 2))).code())
          .isEqualTo("capacity");
      assertThat(c.metrics()).contains("spindle_sandbox_memory_budget_bytes 4194304");

      c.deleteSandbox(filler);
      List<SandboxInfo> children = c.createSandboxes(CreateSandboxes.branch("warm", 100));
      assertThat(children)
          .as("branches share their snapshot's pages: 100 fit a 4 MiB budget")
          .hasSize(100);
      assertThat(c.call(children.getFirst().id(), "next"))
          .as("the branch resumes the warm state")
          .containsExactly(2L);
      assertThat(c.call(small, "add", 1, 1)).containsExactly(2L);
    }
  }

  @Test
  void branchesOfASnapshotReadBackFromDiskRunAtTheNodesMemoryCeiling() throws Exception {
    Path home = tmp.resolve("home");
    String[] flags = {"--max-memory", "1MiB", "--memory-budget", "1MiB"};
    try (DaemonProcess first = DaemonProcess.start(home, flags)) {
      SpindleClient c = first.client();
      String a =
          c.createSandboxes(
                  new CreateSandboxes(
                      Wasm.bytes(SampleGuest.wasm()), null, null, 1, new Limits(null, 8, null)))
              .getFirst()
              .id();
      c.call(a, "next");
      assertThat(c.snapshot(a, new Snapshot("disk", "full", true)).status()).isEqualTo("ready");
    }
    // After a restart the snapshot's sandbox is built anew, at the node's ceilings: its branches
    // run
    // within the 1 MiB budget (they write only what they change).
    try (DaemonProcess second = DaemonProcess.start(home, flags)) {
      SpindleClient c = second.client();
      List<SandboxInfo> two = c.createSandboxes(CreateSandboxes.branch("disk", 2));
      for (SandboxInfo b : two) {
        assertThat(c.call(b.id(), "next")).containsExactly(2L);
      }
    }
  }

  private static RawHttp.Answer create(DaemonProcess node, String token, String limits)
      throws Exception {
    String body =
        "{\"wasm\": {\"base64\": \""
            + WASM
            + "\"}"
            + (limits == null ? "" : ", \"limits\": " + limits)
            + "}";
    return RawHttp.send("POST", node.url + "/v1/sandboxes", token, body);
  }

  private static void refused(
      DaemonProcess node, String token, String limits, String field, String why) throws Exception {
    RawHttp.Answer a = create(node, token, limits);
    assertThat(a.status()).as(limits + ": " + a.body()).isEqualTo(400);
    assertThat(a.code()).isEqualTo("bad_field");
    assertThat(a.message()).contains("'" + field + "'").contains(why);
  }
}
