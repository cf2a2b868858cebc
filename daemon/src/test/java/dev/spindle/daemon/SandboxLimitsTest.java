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
        refused(node, token, "{\"timeout_ms\": " + t + "}", "limits.timeout_ms", "between 1 and 600000, got " + t);
      }
      for (long p : new long[] {0, -5, 65_537}) {
        refused(node, token, "{\"max_memory_pages\": " + p + "}", "limits.max_memory_pages",
            "between 1 and 65536, got " + p);
      }
      for (long o : new long[] {0, -1, (64L << 20) + 1}) {
        refused(node, token, "{\"output_cap\": " + o + "}", "limits.output_cap", "between 1 and " + (64 << 20));
      }
      // At the ceilings, and with the defaults, it runs.
      RawHttp.Answer ok = create(node, token, "{\"timeout_ms\": 600000, \"max_memory_pages\": 65536, \"output_cap\": "
          + (64 << 20) + "}");
      assertThat(ok.status()).as(ok.body()).isEqualTo(201);
      String id = ok.json().path("sandboxes").get(0).path("id").asText();
      assertThat(node.client().call(id, "add", 20, 22)).containsExactly(42L);
      assertThat(create(node, token, null).status()).isEqualTo(201);
      assertThat(RawHttp.send("GET", node.url + "/healthz", null, null).status()).isEqualTo(200);
    }
  }

  @Test
  void ceilingsComeFromTheCommandLine() throws Exception {
    try (DaemonProcess node = DaemonProcess.start(tmp.resolve("home"), "--max-timeout", "5s", "--max-memory", "1MiB",
        "--max-output", "1k")) {
      String token = node.token();
      refused(node, token, "{\"timeout_ms\": 5001}", "limits.timeout_ms", "between 1 and 5000, got 5001");
      refused(node, token, "{\"max_memory_pages\": 17}", "limits.max_memory_pages", "between 1 and 16, got 17");
      refused(node, token, "{\"output_cap\": 1025}", "limits.output_cap", "between 1 and 1024, got 1025");
      assertThat(create(node, token, "{\"timeout_ms\": 5000, \"max_memory_pages\": 16, \"output_cap\": 1024}")
          .status()).isEqualTo(201);
      // The defaults (60 s, 256 MiB, 1 MiB) are lowered to ceilings set below them.
      assertThat(create(node, token, null).status()).isEqualTo(201);
    }
  }

  @Test
  void aCreateOrBranchPastTheMemoryBudgetIs503UntilASandboxIsDeleted() throws Exception {
    // 8 pages (512 KiB) a sandbox: two fit a 1 MiB budget, a third does not.
    try (DaemonProcess node = DaemonProcess.start(tmp.resolve("home"), "--memory-budget", "1MiB")) {
      SpindleClient c = node.client();
      Limits small = new Limits(null, 8, null);
      String a = c.createSandboxes(new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()), null, null, 1, small))
          .getFirst().id();

      ApiException two = catchApi(() -> c.createSandboxes(
          new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()), null, null, 2, small)));
      assertThat(two.status()).isEqualTo(503);
      assertThat(two.code()).isEqualTo("capacity");
      assertThat(two.getMessage()).contains("memory budget").contains("--memory-budget");
      assertThat(c.sandboxes()).as("all or nothing: none of the two started").hasSize(1);
      assertThat(c.metrics()).contains("spindle_sandbox_memory_reserved_bytes 524288")
          .contains("spindle_sandbox_memory_budget_bytes 1048576");

      // The defaults (4096 pages, 256 MiB) do not fit at all.
      assertThat(catchApi(() -> c.createSandboxes(new CreateSandboxes(Wasm.bytes(SampleGuest.wasm())))).code())
          .isEqualTo("capacity");

      // A branch takes its snapshot's maximum: one fits beside its parent, two do not.
      c.call(a, "next");
      assertThat(c.snapshot(a, new Snapshot("warm", "live", true)).status()).isEqualTo("ready");
      ApiException branches = catchApi(() -> c.createSandboxes(CreateSandboxes.branch("warm", 2)));
      assertThat(branches.status()).isEqualTo(503);
      assertThat(branches.code()).isEqualTo("capacity");
      SandboxInfo b = c.createSandboxes(CreateSandboxes.branch("warm", 1)).getFirst();
      assertThat(c.call(b.id(), "next")).as("the branch resumes the warm state").containsExactly(2L);

      ApiException full = catchApi(() -> c.createSandboxes(
          new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()), null, null, 1, small)));
      assertThat(full.status()).isEqualTo(503);
      assertThat(full.code()).isEqualTo("capacity");

      c.deleteSandbox(b.id());
      List<SandboxInfo> again = c.createSandboxes(
          new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()), null, null, 1, small));
      assertThat(again).hasSize(1);
      assertThat(c.call(again.getFirst().id(), "add", 1, 1)).containsExactly(2L);
      assertThat(c.metrics()).contains("spindle_sandbox_memory_reserved_bytes 1048576");
    }
  }

  @Test
  void branchesOfASnapshotReadBackFromDiskRunAtTheNodesMemoryCeiling() throws Exception {
    Path home = tmp.resolve("home");
    String[] flags = {"--max-memory", "1MiB", "--memory-budget", "1MiB"};
    try (DaemonProcess first = DaemonProcess.start(home, flags)) {
      SpindleClient c = first.client();
      String a = c.createSandboxes(new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()), null, null, 1,
          new Limits(null, 8, null))).getFirst().id();
      c.call(a, "next");
      assertThat(c.snapshot(a, new Snapshot("disk", "full", true)).status()).isEqualTo("ready");
    }
    // After a restart the snapshot's sandbox is built anew: at the 16-page ceiling (1 MiB), not the
    // 4 GiB a sandbox gets when nothing caps it, so one branch fits the budget and two do not.
    try (DaemonProcess second = DaemonProcess.start(home, flags)) {
      SpindleClient c = second.client();
      ApiException two = catchApi(() -> c.createSandboxes(CreateSandboxes.branch("disk", 2)));
      assertThat(two.code()).isEqualTo("capacity");
      assertThat(two.getMessage()).contains("2 more of up to 1 MiB each");
      SandboxInfo b = c.createSandboxes(CreateSandboxes.branch("disk", 1)).getFirst();
      assertThat(c.call(b.id(), "next")).containsExactly(2L);
      assertThat(c.metrics()).contains("spindle_sandbox_memory_reserved_bytes 1048576");
    }
  }

  private static RawHttp.Answer create(DaemonProcess node, String token, String limits) throws Exception {
    String body = "{\"wasm\": {\"base64\": \"" + WASM + "\"}" + (limits == null ? "" : ", \"limits\": " + limits) + "}";
    return RawHttp.send("POST", node.url + "/v1/sandboxes", token, body);
  }

  private static void refused(DaemonProcess node, String token, String limits, String field, String why)
      throws Exception {
    RawHttp.Answer a = create(node, token, limits);
    assertThat(a.status()).as(limits + ": " + a.body()).isEqualTo(400);
    assertThat(a.code()).isEqualTo("bad_field");
    assertThat(a.message()).contains("'" + field + "'").contains(why);
  }
}
