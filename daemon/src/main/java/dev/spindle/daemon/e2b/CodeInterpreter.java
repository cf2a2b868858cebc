package dev.spindle.daemon.e2b;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.daemon.ApiError;
import dev.spindle.daemon.Errors;
import dev.spindle.daemon.NodeSandbox;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.python.EvalResult;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;

/**
 * E2B's code interpreter (sandbox port 49999) over a Python sandbox: {@code POST /execute} runs a
 * cell and answers an NDJSON stream (stdout and stderr lines as the code writes them, then the last
 * expression's {@code repr} as the main result or the exception as an error, then the execution
 * count and the end), and {@code /contexts} makes, lists, restarts and removes separate namespaces
 * in the same interpreter.
 */
final class CodeInterpreter {
  /** The largest cell accepted. */
  static final int MAX_CODE = 16 << 20;

  static final int MAX_CONTEXTS = 1000;

  /** How often output written meanwhile is sent on while a cell runs. */
  private static final long POLL_MS = 10;

  private final E2bSandboxes e2b;
  private final ObjectMapper json;
  private final SecureRandom random = new SecureRandom();
  private final ExecutorService cells =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("spindle-e2b-cell-", 0).factory());

  CodeInterpreter(E2bSandboxes e2b, ObjectMapper json) {
    this.e2b = e2b;
    this.json = json;
  }

  /**
   * Answers one request to port 49999 of {@code e} ({@code path} after the sandbox prefix). {@code
   * authorized}: whether it carried the sandbox's access token; the SDK sends it with {@code
   * /execute} only, so the context calls go without (as on E2B, where the interpreter port checks
   * none).
   */
  void handle(E2bHandler.Call call, E2bSandboxes.Entry e, String path, boolean authorized)
      throws Exception {
    String method = call.request().getMethod();
    if (path.equals("/execute") && method.equals("POST")) {
      if (!authorized) {
        throw new ApiError(
            401, "unauthorized", "missing or wrong X-Access-Token for sandbox '" + e.id + "'");
      }
      execute(call, e);
      return;
    }
    if (path.equals("/contexts") && method.equals("POST")) {
      call.json(201, createContext(e, call.body()));
      return;
    }
    if (path.equals("/contexts") && method.equals("GET")) {
      call.json(200, listContexts(e));
      return;
    }
    if (path.startsWith("/contexts/")) {
      String rest = path.substring("/contexts/".length());
      boolean restart = rest.endsWith("/restart");
      String id = restart ? rest.substring(0, rest.length() - "/restart".length()) : rest;
      if ((restart && method.equals("POST")) || (!restart && method.equals("DELETE"))) {
        clearContext(e, id, !restart);
        call.noContent();
        return;
      }
    }
    throw new ApiError(
        404,
        "not_found",
        "the code interpreter has no "
            + method
            + " "
            + E2bSandboxes.clip(path)
            + " (it serves POST /execute and /contexts)");
  }

  private ObjectNode createContext(E2bSandboxes.Entry e, JsonNode body) {
    String language = text(body, "language");
    checkLanguage(language);
    String cwd = text(body, "cwd");
    e.lock.lock();
    try {
      if (e.contexts.size() >= MAX_CONTEXTS) {
        throw new ApiError(
            429,
            "too_many_contexts",
            "sandbox '" + e.id + "' has " + MAX_CONTEXTS + " contexts; remove some");
      }
      byte[] b = new byte[16];
      random.nextBytes(b);
      String id = HexFormat.of().formatHex(b);
      e.contexts.put(id, e.nextNamespace++);
      return context(id, cwd);
    } finally {
      e.lock.unlock();
    }
  }

  private ArrayNode listContexts(E2bSandboxes.Entry e) {
    ArrayNode a = json.createArrayNode();
    e.lock.lock();
    try {
      e.contexts.keySet().forEach(id -> a.add(context(id, null)));
    } finally {
      e.lock.unlock();
    }
    return a;
  }

  private ObjectNode context(String id, String cwd) {
    ObjectNode n = json.createObjectNode();
    n.put("id", id);
    n.put("language", "python");
    // The interpreter's working directory is the sandbox's; a context cannot have its own.
    n.put("cwd", cwd == null ? "/" : cwd);
    return n;
  }

  /**
   * Empties a context's namespace; {@code remove} also forgets its id (its number is never reused).
   */
  private void clearContext(E2bSandboxes.Entry e, String id, boolean remove) {
    e.lock.lock();
    try {
      Integer ns = e.contexts.get(id);
      if (ns == null) {
        throw new ApiError(404, "not_found", "context '" + E2bSandboxes.clip(id) + "' not found");
      }
      NodeSandbox g = e2b.running(e);
      g.eval("globals().clear()\nglobals()['__name__'] = '__main__'", ns, false);
      e.executions.remove(ns);
      if (remove && ns != 0) {
        e.contexts.remove(id);
      }
    } finally {
      e.lock.unlock();
    }
  }

  private void execute(E2bHandler.Call call, E2bSandboxes.Entry e) throws Exception {
    JsonNode body = call.body();
    String code = text(body, "code");
    if (code == null) {
      throw new ApiError(400, "bad_field", "field 'code' is required: Python source");
    }
    String contextId = text(body, "context_id");
    String language = text(body, "language");
    Map<String, String> envs = strings(body, "env_vars");
    int ns = 0;
    if (contextId != null) {
      Integer n;
      e.lock.lock();
      try {
        n = e.contexts.get(contextId);
      } finally {
        e.lock.unlock();
      }
      if (n == null) {
        throw new ApiError(
            404, "not_found", "context '" + E2bSandboxes.clip(contextId) + "' not found");
      }
      ns = n;
    }
    e.lock.lock();
    try {
      NodeSandbox g = e2b.running(e);
      Response response = call.response();
      response.setStatus(200);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-ndjson");
      call.answered = true;
      try (OutputStream out = Content.Sink.asOutputStream(response)) {
        if (language != null && !isPython(language)) {
          error(
              out,
              "NotImplementedError",
              "this Spindle node runs python only, not '" + E2bSandboxes.clip(language) + "'",
              "");
        } else {
          run(out, e, g, ns, code, envs);
        }
        line(out, json.createObjectNode().put("type", "end_of_execution"));
      }
      call.streamed();
    } finally {
      e.lock.unlock();
    }
  }

  /**
   * Runs the cell on another thread, sending its output on as it comes, then its result or error.
   */
  private void run(
      OutputStream out,
      E2bSandboxes.Entry e,
      NodeSandbox g,
      int ns,
      String code,
      Map<String, String> envs)
      throws IOException, InterruptedException {
    Reactor reactor = g.reactor();
    // Output written outside a streamed cell is not this cell's.
    reactor.takeStdout();
    reactor.takeStderr();
    if (!envs.isEmpty()) {
      g.eval(
          "(lambda o, d: (setattr(o, '_spindle_saved_env', {k: o.environ.get(k) for k in d}), "
              + "o.environ.update(d)))(__import__('os'), "
              + json.writeValueAsString(envs)
              + ")\nNone",
          ns,
          false);
    }
    Future<EvalResult> cell = cells.submit(() -> g.eval(code, ns, true));
    EvalResult r = null;
    Throwable failed = null;
    while (r == null && failed == null) {
      try {
        r = cell.get(POLL_MS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException t) {
        // still running
      } catch (ExecutionException x) {
        failed = x.getCause();
      }
      output(out, reactor);
    }
    if (!envs.isEmpty() && failed == null) {
      g.eval(
          "(lambda o: [o.environ.pop(k, None) if v is None else o.environ.__setitem__(k, v) "
              + "for k, v in o.__dict__.pop('_spindle_saved_env', {}).items()])(__import__('os'))\nNone",
          ns,
          false);
    }
    if (failed != null) {
      ApiError a = Errors.map(failed);
      // A limit (the cell's timeout, the memory cap) ended the interpreter: later cells answer so
      // too.
      error(out, a.code.startsWith("limit_") ? "TimeoutError" : "SandboxError", a.getMessage(), "");
      return;
    }
    int count = e.executions.merge(ns, 1, Integer::sum);
    if (r.value() != null) {
      line(
          out,
          json.createObjectNode()
              .put("type", "result")
              .put("text", r.value())
              .put("is_main_result", true));
    }
    if (r.error() != null) {
      error(out, r.error().type(), r.error().message(), r.error().traceback());
    }
    line(
        out,
        json.createObjectNode().put("type", "number_of_executions").put("execution_count", count));
  }

  private void output(OutputStream out, Reactor reactor) throws IOException {
    byte[] o = reactor.takeStdout();
    if (o.length > 0) {
      line(
          out,
          json.createObjectNode()
              .put("type", "stdout")
              .put("text", new String(o, StandardCharsets.UTF_8))
              .put("timestamp", Instant.now().toString()));
    }
    byte[] err = reactor.takeStderr();
    if (err.length > 0) {
      line(
          out,
          json.createObjectNode()
              .put("type", "stderr")
              .put("text", new String(err, StandardCharsets.UTF_8))
              .put("timestamp", Instant.now().toString()));
    }
  }

  private void error(OutputStream out, String name, String value, String traceback)
      throws IOException {
    line(
        out,
        json.createObjectNode()
            .put("type", "error")
            .put("name", name)
            .put("value", value)
            .put("traceback", traceback));
  }

  private void line(OutputStream out, ObjectNode n) throws IOException {
    out.write(json.writeValueAsBytes(n));
    out.write('\n');
    out.flush();
  }

  private static boolean isPython(String language) {
    return language.equals("python") || language.equals("python3");
  }

  private static void checkLanguage(String language) {
    if (language != null && !isPython(language)) {
      throw new ApiError(
          400,
          "unsupported_language",
          "this Spindle node runs python only, not '" + E2bSandboxes.clip(language) + "'");
    }
  }

  static String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw new ApiError(400, "bad_field", "field '" + field + "' must be a string");
    }
    return n.asText();
  }

  /** An object of strings (absent or null: empty). */
  static Map<String, String> strings(JsonNode body, String field) {
    JsonNode n = body.get(field);
    Map<String, String> out = new LinkedHashMap<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (!n.isObject()) {
      throw new ApiError(400, "bad_field", "field '" + field + "' must be an object of strings");
    }
    for (var f : n.properties()) {
      if (!f.getValue().isTextual()) {
        throw new ApiError(
            400,
            "bad_field",
            "field '" + field + "." + E2bSandboxes.clip(f.getKey()) + "' must be a string");
      }
      out.put(f.getKey(), f.getValue().asText());
    }
    return out;
  }

  void close() {
    cells.shutdownNow();
  }
}
