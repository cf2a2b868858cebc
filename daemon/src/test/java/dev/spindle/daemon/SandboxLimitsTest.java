package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each request's limits against the node's ceilings (400 naming the field), on real daemon processes.
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
