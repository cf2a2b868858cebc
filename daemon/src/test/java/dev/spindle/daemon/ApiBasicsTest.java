package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.client.Api;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real daemon process: the token, and what bad requests are answered. */
class ApiBasicsTest {
  @TempDir static Path tmp;
  static DaemonProcess node;
  static String token;

  @BeforeAll
  static void start() throws Exception {
    node = DaemonProcess.start(tmp.resolve("home"));
    token = node.token();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void tokenIsGeneratedOwnerOnlyAndRequiredExceptOnHealthz() throws Exception {
    Path file = tmp.resolve("home/daemon.token");
    assertThat(Files.getPosixFilePermissions(file))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(token).hasSize(64);

    assertThat(RawHttp.send("GET", node.url + "/healthz", null, null).status()).isEqualTo(200);
    RawHttp.Answer none = RawHttp.send("GET", node.url + "/v1/images", null, null);
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.code()).isEqualTo("unauthorized");
    assertThat(none.message()).contains("Bearer");
    RawHttp.Answer wrong = RawHttp.send("GET", node.url + "/version", "0".repeat(64), null);
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.message()).isEqualTo("wrong token");
    assertThat(RawHttp.send("GET", node.url + "/metrics", null, null).status()).isEqualTo(401);

    SpindleClient c = SpindleClient.connect(node.url, "nope");
    assertThatThrownBy(c::version)
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(401));
    assertThat(node.client().version().api()).isEqualTo("v1");
  }

  @Test
  void badJsonUnknownFieldsWrongTypesAndBadTagsAre400NamingTheField() throws Exception {
    String images = node.url + "/v1/images";
    RawHttp.Answer broken = RawHttp.send("POST", images, token, "{\"source\": ");
    assertThat(broken.status()).isEqualTo(400);
    assertThat(broken.code()).isEqualTo("bad_json");

    RawHttp.Answer empty = RawHttp.send("POST", images, token, "");
    assertThat(empty.status()).isEqualTo(400);
    assertThat(empty.code()).isEqualTo("bad_json");

    RawHttp.Answer unknown =
        RawHttp.send("POST", images, token, "{\"source\": \"/x\", \"tag\": \"a\", \"colour\": 1}");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.code()).isEqualTo("unknown_field");
    assertThat(unknown.message()).contains("'colour'").contains("source");

    RawHttp.Answer nested =
        RawHttp.send(
            "POST",
            node.url + "/v1/sandboxes",
            token,
            "{\"wasm\": {\"base64\": \"AA==\"}, \"limits\": {\"timeout\": 5}}");
    assertThat(nested.code()).isEqualTo("unknown_field");
    assertThat(nested.message()).contains("'timeout'").contains("in 'limits'");

    RawHttp.Answer type =
        RawHttp.send(
            "POST", images, token, "{\"source\": \"/x\", \"tag\": \"a\", \"wait\": \"soon\"}");
    assertThat(type.status()).isEqualTo(400);
    assertThat(type.code()).isEqualTo("bad_field");
    assertThat(type.message()).contains("'wait'");

    RawHttp.Answer tag =
        RawHttp.send("POST", images, token, "{\"source\": \"/x\", \"tag\": \"../etc\"}");
    assertThat(tag.status()).isEqualTo(400);
    assertThat(tag.code()).isEqualTo("bad_tag");
    assertThat(tag.message()).contains("'../etc'");
    assertThat(RawHttp.send("GET", images + "/" + "x".repeat(65), token, null).code())
        .isEqualTo("bad_tag");

    RawHttp.Answer missing = RawHttp.send("POST", images, token, "{\"tag\": \"a\"}");
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.message()).contains("'source'");

    assertThat(RawHttp.send("DELETE", images + "/nothing?cascade=maybe", token, null).code())
        .isEqualTo("bad_query");
  }

  @Test
  void aBodyOverTheCapIs413BeforeItIsRead() throws Exception {
    java.net.URI u = java.net.URI.create(node.url);
    try (java.net.Socket s = new java.net.Socket(u.getHost(), u.getPort())) {
      String req =
          "POST /v1/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
              + token
              + "\r\nContent-Type: application/json\r\nContent-Length: "
              + (Exchange.MAX_BODY + 1)
              + "\r\n\r\n{";
      s.getOutputStream().write(req.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      String status =
          new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream())).readLine();
      assertThat(status).isEqualTo("HTTP/1.1 413 Payload Too Large");
    }
  }

  @Test
  void unknownRoutesAndMethodsAndTags() throws Exception {
    RawHttp.Answer route = RawHttp.send("GET", node.url + "/v2/images", token, null);
    assertThat(route.status()).isEqualTo(404);
    assertThat(route.code()).isEqualTo("no_route");
    RawHttp.Answer method = RawHttp.send("PUT", node.url + "/v1/images", token, "{}");
    assertThat(method.status()).isEqualTo(405);
    assertThatThrownBy(() -> node.client().image("absent"))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(404);
              assertThat(e.code()).isEqualTo("not_found");
            });
  }

  @Test
  void metricsArePrometheusText() throws Exception {
    SpindleClient c = node.client();
    c.images();
    String m = c.metrics();
    assertThat(m)
        .contains("# TYPE spindle_sandboxes gauge")
        .contains("spindle_sandboxes 0")
        .contains("spindle_images_ready ")
        .contains("spindle_http_requests_total{method=\"GET\",route=\"/v1/images\",status=\"200\"}")
        .contains(
            "spindle_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/images\",le=\"+Inf\"}");
    assertThat(Api.DEFAULT_NODE).startsWith("http://127.0.0.1:");
  }
}
