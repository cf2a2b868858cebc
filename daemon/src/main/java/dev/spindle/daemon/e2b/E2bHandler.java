package dev.spindle.daemon.e2b;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.client.Api.ImageInfo;
import dev.spindle.daemon.ApiError;
import dev.spindle.daemon.ApiHandler;
import dev.spindle.daemon.Errors;
import dev.spindle.daemon.Exchange;
import dev.spindle.daemon.Metrics;
import dev.spindle.daemon.NodeLimits;
import dev.spindle.daemon.NodeSandbox;
import dev.spindle.daemon.Router;
import dev.spindle.daemon.Sandboxes;
import dev.spindle.daemon.TokenFile;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * E2B's API on a Spindle node, so that E2B's SDKs work with {@code E2B_API_URL=http://NODE/e2b},
 * {@code E2B_SANDBOX_URL=http://NODE/e2b/sandbox} and {@code E2B_API_KEY=<the node's token>}.
 * {@code /e2b/...} is the control plane (sandboxes, pause, connect, fork, snapshots; the node's
 * token as {@code X-API-Key}); {@code /e2b/sandbox/...} is what the SDK sends "into" a sandbox,
 * named by the {@code E2b-Sandbox-Id} and {@code E2b-Sandbox-Port} headers and authorized by the
 * sandbox's own access token ({@code X-Access-Token}): port 49983 goes to {@link Envd}, 49999 to
 * the {@link CodeInterpreter}. Every other path goes on to the node's own API.
 *
 * <p>These routes are E2B's, in E2B's shapes (errors are {@code {"code": status, "message": ...}}),
 * so they stay out of the node's route table and its {@code openapi.json}, which describe Spindle's
 * API; {@code daemon/E2B.md} maps them.
 */
public final class E2bHandler extends Handler.Wrapper {
  static final String PREFIX = "/e2b";
  static final String SANDBOX_PREFIX = "/e2b/sandbox";
  static final int ENVD_PORT = 49983;
  static final int INTERPRETER_PORT = 49999;

  /** The largest control-plane body read; cells are larger ({@link CodeInterpreter#MAX_CODE}). */
  static final long MAX_BODY = 1 << 20;

  private final ApiHandler api;
  private final E2bSandboxes e2b;
  private final CodeInterpreter interpreter;
  private final String token;
  private final Metrics metrics;
  private final ObjectMapper json =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private final Router router = new Router();

  public E2bHandler(ApiHandler api, E2bSandboxes e2b, String token, Metrics metrics) {
    super(api);
    this.api = api;
    this.e2b = e2b;
    this.token = token;
    this.metrics = metrics;
    this.interpreter = new CodeInterpreter(e2b, json);
    routes();
  }

  /**
   * The path of a sandbox-side request after {@link #SANDBOX_PREFIX} ({@code /execute}, {@code
   * /files}).
   */
  static String sandboxPath(Request request) {
    String p = request.getHttpURI().getDecodedPath();
    return p.length() <= SANDBOX_PREFIX.length() ? "/" : p.substring(SANDBOX_PREFIX.length());
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String path = request.getHttpURI().getDecodedPath();
    if (!path.equals(PREFIX) && !path.startsWith(PREFIX + "/")) {
      return super.handle(request, response, callback);
    }
    long t0 = System.nanoTime();
    Call call = new Call(request, response, callback);
    boolean held = false;
    String route = "/e2b/sandbox";
    try {
      api.enter();
      held = true;
      if (path.equals(SANDBOX_PREFIX) || path.startsWith(SANDBOX_PREFIX + "/")) {
        sandboxSide(call);
      } else {
        route = control(call, path);
      }
    } catch (Throwable t) {
      fail(call, t);
    } finally {
      if (held) {
        api.leave();
      }
    }
    metrics.observe(request.getMethod(), route, call.status, System.nanoTime() - t0);
    return true;
  }

  private void fail(Call call, Throwable t) {
    Throwable cause =
        t instanceof java.util.concurrent.ExecutionException ee && ee.getCause() != null
            ? ee.getCause()
            : t;
    if (call.answered) {
      // The stream had begun: all that can be done is to cut it.
      call.callback.failed(cause);
      return;
    }
    ApiError a = Errors.map(cause);
    int status = a.status;
    if ("capacity".equals(a.code)) {
      // E2B answers a full account 429 (the SDK's RateLimitError); no Retry-After, so it does not
      // wait.
      status = 429;
    }
    if (status == 500) {
      System.err.println(
          "spindle daemon: e2b: "
              + call.request.getMethod()
              + " "
              + call.request.getHttpURI().getPath()
              + ": "
              + cause);
    }
    if (status == 503) {
      call.response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
    }
    ObjectNode body = json.createObjectNode().put("code", status).put("message", a.getMessage());
    call.json(status, body);
  }

  // ---- the control plane ----

  private void routes() {
    for (String base : List.of("/e2b/sandboxes", "/e2b/v2/sandboxes")) {
      router.add("POST", base, null);
      router.add("GET", base, null);
    }
    router.add("GET", "/e2b/sandboxes/{id}", null);
    router.add("DELETE", "/e2b/sandboxes/{id}", null);
    router.add("POST", "/e2b/sandboxes/{id}/timeout", null);
    router.add("POST", "/e2b/sandboxes/{id}/pause", null);
    router.add("POST", "/e2b/sandboxes/{id}/resume", null);
    router.add("POST", "/e2b/sandboxes/{id}/connect", null);
    router.add("POST", "/e2b/v2/sandboxes/{id}/connect", null);
    router.add("POST", "/e2b/sandboxes/{id}/fork", null);
    router.add("POST", "/e2b/sandboxes/{id}/snapshots", null);
    router.add("GET", "/e2b/snapshots", null);
    router.add("DELETE", "/e2b/templates/{id}", null);
    router.add("PUT", "/e2b/sandboxes/{id}/network", null);
    router.add("GET", "/e2b/sandboxes/{id}/metrics", null);
    router.add("GET", "/e2b/sandboxes/{id}/logs", null);
    router.add("GET", "/e2b/v2/sandboxes/{id}/logs", null);
  }

  /** Serves one control-plane request; answers the route's template (for the metrics). */
  private String control(Call call, String path) throws Exception {
    Router.Match m;
    try {
      m = router.match(call.request.getMethod(), path);
    } catch (ApiError a) {
      throw new ApiError(
          a.status,
          a.code,
          "this node's E2B API has no "
              + call.request.getMethod()
              + " "
              + E2bSandboxes.clip(path)
              + " (see daemon/E2B.md)");
    }
    authorize(call.request);
    String t = m.route().template().replace("/e2b/v2/", "/e2b/");
    String id = m.params().get("id");
    switch (call.request.getMethod() + " " + t) {
      case "POST /e2b/sandboxes" -> create(call);
      case "GET /e2b/sandboxes" -> list(call);
      case "GET /e2b/sandboxes/{id}" -> call.json(200, detail(e2b.get(id)));
      case "DELETE /e2b/sandboxes/{id}" -> {
        e2b.kill(e2b.get(id));
        call.noContent();
      }
      case "POST /e2b/sandboxes/{id}/timeout" -> {
        E2bSandboxes.Entry e = e2b.get(id);
        e2b.setTimeout(e, timeout(call.body(MAX_BODY), E2bSandboxes.DEFAULT_TIMEOUT, true));
        call.noContent();
      }
      case "POST /e2b/sandboxes/{id}/pause" -> {
        e2b.pause(e2b.get(id));
        call.noContent();
      }
      case "POST /e2b/sandboxes/{id}/resume", "POST /e2b/sandboxes/{id}/connect" -> {
        E2bSandboxes.Entry e = e2b.get(id);
        boolean resumed =
            e2b.connect(e, timeout(call.body(MAX_BODY), E2bSandboxes.DEFAULT_TIMEOUT, false));
        call.json(resumed ? 201 : 200, sandbox(e));
      }
      case "POST /e2b/sandboxes/{id}/fork" -> fork(call, e2b.get(id));
      case "POST /e2b/sandboxes/{id}/snapshots" -> {
        JsonNode body = call.body(MAX_BODY);
        ImageInfo row = e2b.snapshot(e2b.get(id), CodeInterpreter.text(body, "name"));
        call.json(
            201,
            json.createObjectNode()
                .put("snapshotID", row.tag())
                .set("names", json.createArrayNode().add(row.tag())));
      }
      case "GET /e2b/snapshots" -> {
        ArrayNode a = json.createArrayNode();
        String name = call.query("name");
        for (ImageInfo i : e2b.snapshots(call.query("sandboxID"))) {
          if (name == null || name.equals(i.tag())) {
            a.add(
                json.createObjectNode()
                    .put("snapshotID", i.tag())
                    .set("names", json.createArrayNode().add(i.tag())));
          }
        }
        call.json(200, a);
      }
      case "DELETE /e2b/templates/{id}" -> {
        if (!e2b.deleteSnapshot(id)) {
          throw new ApiError(
              404, "not_found", "snapshot '" + E2bSandboxes.clip(id) + "' not found");
        }
        call.noContent();
      }
      case "PUT /e2b/sandboxes/{id}/network" -> {
        e2b.get(id);
        throw new ApiError(
            501,
            "not_implemented",
            "network rules are not served: a Spindle Python sandbox has " + "no network at all");
      }
      default -> {
        e2b.get(id);
        throw new ApiError(
            501, "not_implemented", "sandbox metrics and logs are not served by this node");
      }
    }
    return t;
  }

  private void authorize(Request request) {
    String key = request.getHeaders().get("X-API-Key");
    if (key == null) {
      String h = request.getHeaders().get(HttpHeader.AUTHORIZATION);
      key = h != null && h.startsWith("Bearer ") ? h.substring("Bearer ".length()).strip() : null;
    }
    if (key == null) {
      throw new ApiError(
          401,
          "unauthorized",
          "missing X-API-Key: set E2B_API_KEY to the node's token (file "
              + "daemon.token in its home)");
    }
    if (!TokenFile.matches(token, key)) {
      throw new ApiError(
          401, "unauthorized", "wrong API key (E2B_API_KEY must be the node's token)");
    }
  }

  private static final Set<String> REFUSED_CREATE_FIELDS =
      Set.of("mcp", "volumeMounts", "network", "iam");

  private void create(Call call) throws Exception {
    JsonNode body = call.body(MAX_BODY);
    String template = CodeInterpreter.text(body, "templateID");
    if (template == null) {
      throw new ApiError(400, "bad_field", "field 'templateID' is required");
    }
    for (String f : REFUSED_CREATE_FIELDS) {
      if (body.hasNonNull(f)) {
        throw new ApiError(
            400,
            "unsupported_field",
            "field '" + f + "' is not served by this node (see daemon/E2B.md)");
      }
    }
    Map<String, String> metadata = CodeInterpreter.strings(body, "metadata");
    if (metadata.size() > E2bSandboxes.MAX_METADATA) {
      throw new ApiError(
          400,
          "bad_field",
          "field 'metadata' has more than " + E2bSandboxes.MAX_METADATA + " entries");
    }
    Map<String, String> envs = CodeInterpreter.strings(body, "envVars");
    JsonNode autoPause = body.get("autoPause");
    E2bSandboxes.Entry e =
        e2b.create(
            new E2bSandboxes.Create(
                template,
                timeout(body, E2bSandboxes.DEFAULT_TIMEOUT, false),
                metadata,
                envs,
                autoPause != null && autoPause.asBoolean(false)));
    call.json(201, sandbox(e));
  }

  /** Field {@code timeout} (seconds), within E2B's bounds; {@code required} for set-timeout. */
  private static Duration timeout(JsonNode body, Duration fallback, boolean required) {
    JsonNode n = body.get("timeout");
    if (n == null || n.isNull()) {
      if (required) {
        throw new ApiError(400, "bad_field", "field 'timeout' (seconds) is required");
      }
      return fallback;
    }
    if (!n.canConvertToLong()
        || n.asLong() < 0
        || n.asLong() > E2bSandboxes.MAX_TIMEOUT.toSeconds()) {
      throw new ApiError(
          400,
          "bad_field",
          "field 'timeout' must be 0.." + E2bSandboxes.MAX_TIMEOUT.toSeconds() + " seconds");
    }
    return Duration.ofSeconds(n.asLong());
  }

  private void list(Call call) throws IOException {
    String states = call.query("state");
    Set<String> wanted =
        states == null || states.isBlank()
            ? Set.of("running", "paused")
            : Set.of(states.split(","));
    String template = call.query("template");
    Map<String, String> meta = metadataQuery(call.query("metadata"));
    List<E2bSandboxes.Entry> all = new ArrayList<>();
    for (E2bSandboxes.Entry e : e2b.list()) {
      if (wanted.contains(e.state())
          && (template == null || template.equals(e.template))
          && e.metadata.entrySet().containsAll(meta.entrySet())) {
        all.add(e);
      }
    }
    int from = 0;
    String next = call.query("nextToken");
    if (next != null) {
      try {
        from = Math.max(0, Math.min(all.size(), Integer.parseInt(next)));
      } catch (NumberFormatException ex) {
        throw new ApiError(
            400, "bad_query", "query parameter 'nextToken' is not one this node gave");
      }
    }
    int to = all.size();
    String limit = call.query("limit");
    if (limit != null) {
      try {
        to = Math.min(all.size(), from + Math.max(1, Math.min(1000, Integer.parseInt(limit))));
      } catch (NumberFormatException ex) {
        throw new ApiError(400, "bad_query", "query parameter 'limit' must be a number");
      }
    }
    if (to < all.size()) {
      call.response.getHeaders().put("X-Next-Token", Integer.toString(to));
    }
    ArrayNode a = json.createArrayNode();
    all.subList(from, to).forEach(e -> a.add(listed(e)));
    call.json(200, a);
  }

  /** The SDK's metadata filter: {@code k=v&k2=v2}, each key and value URI-encoded once more. */
  private static Map<String, String> metadataQuery(String q) {
    Map<String, String> m = new HashMap<>();
    if (q == null || q.isBlank()) {
      return m;
    }
    for (String pair : q.split("&")) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new ApiError(
            400, "bad_query", "query parameter 'metadata' must be key=value pairs joined by &");
      }
      m.put(
          URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return m;
  }

  private void fork(Call call, E2bSandboxes.Entry parent) throws Exception {
    JsonNode body = call.body(MAX_BODY);
    JsonNode c = body.get("count");
    int count = c == null || c.isNull() ? 1 : c.asInt(0);
    if (count < 1 || count > E2bSandboxes.MAX_FORKS) {
      throw new ApiError(400, "bad_field", "field 'count' must be 1.." + E2bSandboxes.MAX_FORKS);
    }
    ArrayNode a = json.createArrayNode();
    for (E2bSandboxes.Entry e :
        e2b.fork(parent, count, timeout(body, E2bSandboxes.DEFAULT_TIMEOUT, false))) {
      a.add(json.createObjectNode().set("sandbox", sandbox(e)));
    }
    call.json(201, a);
  }

  /** What create, connect and fork answer for a sandbox. */
  private ObjectNode sandbox(E2bSandboxes.Entry e) {
    ObjectNode n = json.createObjectNode();
    n.put("sandboxID", e.id);
    n.put("templateID", e.template);
    n.put("alias", e.template);
    n.put("clientID", "spindle");
    n.put("envdVersion", E2bSandboxes.ENVD_VERSION);
    n.put("envdAccessToken", e.accessToken);
    return n;
  }

  private ObjectNode listed(E2bSandboxes.Entry e) {
    ObjectNode n = json.createObjectNode();
    n.put("sandboxID", e.id);
    n.put("templateID", e.template);
    n.put("alias", e.template);
    n.put("clientID", "spindle");
    n.put("startedAt", e.startedAt.toString());
    n.put("endAt", e.endAt.toString());
    n.put("state", e.state());
    n.put("cpuCount", 1);
    n.put("memoryMB", ((long) Sandboxes.DEFAULT_LIMITS.maxMemoryPages() * NodeLimits.PAGE) >> 20);
    n.put("diskSizeMB", 0);
    n.put("envdVersion", E2bSandboxes.ENVD_VERSION);
    ObjectNode meta = n.putObject("metadata");
    e.metadata.forEach(meta::put);
    n.putArray("volumeMounts");
    return n;
  }

  private ObjectNode detail(E2bSandboxes.Entry e) {
    ObjectNode n = listed(e);
    n.put("envdAccessToken", e.accessToken);
    return n;
  }

  // ---- the sandbox side ----

  private void sandboxSide(Call call) throws Exception {
    Request r = call.request;
    String id = r.getHeaders().get("E2b-Sandbox-Id");
    String port = r.getHeaders().get("E2b-Sandbox-Port");
    if (id == null || port == null) {
      throw new ApiError(
          400,
          "bad_request",
          "a request to "
              + SANDBOX_PREFIX
              + " names its sandbox and port with the "
              + "E2b-Sandbox-Id and E2b-Sandbox-Port headers");
    }
    E2bSandboxes.Entry e;
    try {
      e = e2b.get(id);
    } catch (ApiError a) {
      // E2B's proxy answers a sandbox it does not know 502: the SDK reads it as "not running".
      throw new ApiError(
          502, "sandbox_not_found", "sandbox '" + E2bSandboxes.clip(id) + "' not found");
    }
    String given = r.getHeaders().get("X-Access-Token");
    boolean authorized = given != null && TokenFile.matches(e.accessToken, given);
    String path = sandboxPath(r);
    switch (port) {
      case "49983" -> {
        if (!authorized) {
          throw new ApiError(
              401, "unauthorized", "missing or wrong X-Access-Token for sandbox '" + e.id + "'");
        }
        ContainerSandboxes.Box box = e2b.containerOf(e);
        if (box != null) {
          call.answered = true;
          Envd.handle(r, call.response, call.callback, box);
          return;
        }
        NodeSandbox g = e2b.running(e);
        call.answered = true;
        Envd.handle(r, call.response, call.callback, g);
      }
      case "49999" -> {
        if (e2b.containerOf(e) != null) {
          throw new ApiError(
              502,
              "port_not_open",
              "port 49999 is not open in container sandbox '"
                  + e.id
                  + "': it "
                  + "has no code interpreter (use commands.run)");
        }
        e2b.running(e);
        interpreter.handle(call, e, path, authorized);
      }
      default ->
          throw new ApiError(
              502,
              "port_not_open",
              "port "
                  + E2bSandboxes.clip(port)
                  + " is not open in "
                  + "sandbox '"
                  + e.id
                  + "' (a Spindle sandbox serves envd on 49983 and the code interpreter on 49999)");
    }
  }

  /** One request to answer: a whole JSON body, nothing, or a stream its handler writes. */
  final class Call {
    final Request request;
    final Response response;
    final Callback callback;
    private final org.eclipse.jetty.util.Fields query;
    boolean answered;
    int status = 200;

    Call(Request request, Response response, Callback callback) {
      this.request = request;
      this.response = response;
      this.callback = callback;
      this.query = Request.extractQueryParameters(request);
    }

    Request request() {
      return request;
    }

    Response response() {
      return response;
    }

    String query(String name) {
      return query.getValue(name);
    }

    /** The JSON body, at most {@code max} bytes (413 beyond); an absent body is an empty object. */
    JsonNode body(long max) throws IOException {
      byte[] b = new Exchange(request, Map.of(), json).bytes(max);
      if (b.length == 0) {
        return json.createObjectNode();
      }
      JsonNode n = json.readTree(b);
      if (n == null || !n.isObject()) {
        throw new ApiError(400, "bad_json", "the body must be a JSON object");
      }
      return n;
    }

    JsonNode body() throws IOException {
      return body(CodeInterpreter.MAX_CODE + MAX_BODY);
    }

    void json(int status, JsonNode value) {
      byte[] b;
      try {
        b = json.writeValueAsBytes(value);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      this.status = status;
      answered = true;
      response.setStatus(status);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
      response.write(true, ByteBuffer.wrap(b), callback);
    }

    void noContent() {
      status = 204;
      answered = true;
      response.setStatus(204);
      callback.succeeded();
    }

    /** The handler wrote and closed the body itself (a stream); marks the response done. */
    void streamed() {
      status = 200;
      answered = true;
      callback.succeeded();
    }
  }
}
