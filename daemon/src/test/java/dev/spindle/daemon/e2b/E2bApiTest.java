package dev.spindle.daemon.e2b;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.daemon.DaemonProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E2B's wire protocol as the node answers it, over raw HTTP (no SDK, so it runs everywhere; the
 * SDK's own view is {@link E2bSdkTest}): E2B's error shape and statuses (401, 404, 409, 429, 502),
 * the access token on the sandbox side, the NDJSON of {@code /execute}, pause/connect states, and
 * the node's own API beside it untouched. The node holds at most one sandbox, so a second is 429.
 */
class E2bApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir static Path tmp;
  private static DaemonProcess node;
  private static String key;

  @BeforeAll
  static void start() throws IOException {
    node = DaemonProcess.startOn(tmp.resolve("home"), "127.0.0.1", "1g", "--max-sandboxes", "1");
    key = node.token();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (node != null) {
      node.close();
    }
  }

  private record Answer(int status, String body) {
    JsonNode json() throws IOException {
      return JSON.readTree(body);
    }
  }

  private static Answer send(String method, String path, String body, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(node.url + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r.body());
  }

  private static Answer api(String method, String path, String body)
      throws IOException, InterruptedException {
    return send(method, "/e2b" + path, body, "X-API-Key", key, "Content-Type", "application/json");
  }

  private static void assertError(int status, Answer a) throws IOException {
    assertEquals(status, a.status(), a.body());
    assertEquals(status, a.json().get("code").asInt(), a.body());
    assertFalse(a.json().get("message").asText().isBlank(), a.body());
  }

  private static List<JsonNode> execute(String id, String token, String code) throws Exception {
    Answer a =
        send(
            "POST",
            "/e2b/sandbox/execute",
            JSON.createObjectNode().put("code", code).toString(),
            "E2b-Sandbox-Id",
            id,
            "E2b-Sandbox-Port",
            "49999",
            "X-Access-Token",
            token);
    assertEquals(200, a.status(), a.body());
    List<JsonNode> lines = new ArrayList<>();
    for (String l : a.body().split("\n")) {
      lines.add(JSON.readTree(l));
    }
    return lines;
  }

  @Test
  void e2bsProtocolWithItsErrorShapes() throws Exception {
    assertError(401, send("GET", "/e2b/v2/sandboxes", null));
    assertError(401, send("GET", "/e2b/v2/sandboxes", null, "X-API-Key", "wrong"));
    assertError(404, api("GET", "/v3/templates", null));
    assertError(404, api("GET", "/sandboxes/sb-000000000000", null));
    assertError(404, api("POST", "/v2/sandboxes", "{\"templateID\": \"no-such-template\"}"));

    Answer created =
        api(
            "POST",
            "/v2/sandboxes",
            "{\"templateID\": \"code-interpreter-v1\", \"metadata\": {\"k\": \"v\"}}");
    assertEquals(201, created.status(), created.body());
    String id = created.json().get("sandboxID").asText();
    String token = created.json().get("envdAccessToken").asText();
    assertTrue(token.length() >= 32, created.body());
    // The node holds one sandbox at most: E2B's answer to a full account is 429.
    assertError(429, api("POST", "/v2/sandboxes", "{\"templateID\": \"code-interpreter-v1\"}"));

    // The sandbox side: the sandbox's own token, and E2B's 502 for what is not there.
    assertError(
        401,
        send(
            "POST",
            "/e2b/sandbox/execute",
            "{\"code\": \"1\"}",
            "E2b-Sandbox-Id",
            id,
            "E2b-Sandbox-Port",
            "49999"));
    assertError(
        401,
        send(
            "POST",
            "/e2b/sandbox/execute",
            "{\"code\": \"1\"}",
            "E2b-Sandbox-Id",
            id,
            "E2b-Sandbox-Port",
            "49999",
            "X-Access-Token",
            key));
    assertError(
        502,
        send(
            "POST",
            "/e2b/sandbox/execute",
            "{\"code\": \"1\"}",
            "E2b-Sandbox-Id",
            "sb-000000000000",
            "E2b-Sandbox-Port",
            "49999",
            "X-Access-Token",
            token));
    assertError(
        502,
        send(
            "GET",
            "/e2b/sandbox/",
            null,
            "E2b-Sandbox-Id",
            id,
            "E2b-Sandbox-Port",
            "8080",
            "X-Access-Token",
            token));

    List<JsonNode> lines = execute(id, token, "print('hi')\nx = 6 * 7\nx");
    // Output comes as the node finds it: a print may be in more than one line.
    StringBuilder out = new StringBuilder();
    int i = 0;
    for (; lines.get(i).get("type").asText().equals("stdout"); i++) {
      out.append(lines.get(i).get("text").asText());
    }
    assertEquals("hi\n", out.toString(), lines.toString());
    assertEquals("result", lines.get(i).get("type").asText());
    assertEquals("42", lines.get(i).get("text").asText());
    assertTrue(lines.get(i).get("is_main_result").asBoolean());
    assertEquals("number_of_executions", lines.get(i + 1).get("type").asText(), lines.toString());
    assertEquals(1, lines.get(i + 1).get("execution_count").asInt(), lines.toString());
    assertEquals("end_of_execution", lines.get(i + 2).get("type").asText());
    assertEquals(i + 3, lines.size(), lines.toString());
    List<JsonNode> err = execute(id, token, "raise KeyError('k')");
    assertEquals("error", err.get(0).get("type").asText(), err.toString());
    assertEquals("KeyError", err.get(0).get("name").asText());
    assertEquals("'k'", err.get(0).get("value").asText());

    assertEquals(204, api("POST", "/sandboxes/" + id + "/pause", "{}").status());
    assertError(409, api("POST", "/sandboxes/" + id + "/pause", "{}"));
    assertEquals("paused", api("GET", "/sandboxes/" + id, null).json().get("state").asText());
    assertError(
        502,
        send(
            "POST",
            "/e2b/sandbox/execute",
            "{\"code\": \"1\"}",
            "E2b-Sandbox-Id",
            id,
            "E2b-Sandbox-Port",
            "49999",
            "X-Access-Token",
            token));
    assertEquals(
        201,
        api("POST", "/v2/sandboxes/" + id + "/connect", "{\"timeout\": 60}").status(),
        "resumed");
    assertEquals(
        200, api("POST", "/v2/sandboxes/" + id + "/connect", "{}").status(), "already running");
    assertEquals("42", execute(id, token, "x").get(0).get("text").asText());
    JsonNode listed = api("GET", "/v2/sandboxes?state=running", null).json();
    assertEquals(1, listed.size(), listed.toString());
    assertEquals("v", listed.get(0).at("/metadata/k").asText());

    // The node's own API is there beside it, as it was.
    Answer v1 = send("GET", "/v1/sandboxes", null, "Authorization", "Bearer " + key);
    assertEquals(200, v1.status(), v1.body());
    assertEquals(1, v1.json().get("sandboxes").size(), v1.body());

    assertEquals(204, api("DELETE", "/sandboxes/" + id, null).status());
    assertError(404, api("DELETE", "/sandboxes/" + id, null));
    assertEquals(
        0,
        send("GET", "/v1/sandboxes", null, "Authorization", "Bearer " + key)
            .json()
            .get("sandboxes")
            .size());
  }
}
