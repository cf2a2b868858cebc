package dev.spindle.daemon.e2b;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.daemon.ApiError;
import dev.spindle.daemon.Exchange;
import dev.spindle.daemon.NodeSandbox;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.concurrent.ExecutionException;
import java.util.zip.GZIPInputStream;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * E2B's in-sandbox daemon, envd (port 49983), for one Spindle sandbox: what the official SDK's
 * {@code sandbox.files} and {@code sandbox.commands} send. The Connect services {@code
 * filesystem.Filesystem} (Stat, MakeDir, Move, ListDir, Remove; watching answers {@code
 * unimplemented}) and {@code process.Process} (Start, Connect, List, SendInput, SendSignal,
 * CloseStdin), the plain-HTTP {@code /files} (download; upload as multipart or raw bytes) and
 * {@code /health}. Files act on the sandbox's writable tree ({@link NodeSandbox#filesRoot()})
 * through {@link EnvdHostFiles}; commands run as {@link EnvdProgram} says. The caller (the E2B
 * router) has already picked the sandbox and checked its access token. The tables of running
 * commands are kept per sandbox (by its {@link NodeSandbox}, weakly: a sandbox that is gone takes
 * its table along), in one instance for the process ({@link #handle}).
 */
final class Envd {
  private static final String FS = "/filesystem.Filesystem/";
  private static final String PROC = "/process.Process/";

  /** Output is sent in data events of at most this many bytes. */
  private static final int CHUNK = 32 << 10;

  /** The deepest {@code files.list} walks, and the most entries one answers. */
  static final int MAX_DEPTH = 64;

  static final int MAX_ENTRIES = 10_000;

  private final EnvdConnect connect;
  private final Map<Object, EnvdProcesses> processes =
      Collections.synchronizedMap(new WeakHashMap<>());

  Envd() {
    this(new ObjectMapper());
  }

  Envd(ObjectMapper json) {
    this.connect = new EnvdConnect(json);
  }

  private static final Envd NODE = new Envd();

  /** Serves one envd request for {@code guest}; always answers it (true). */
  static boolean handle(Request request, Response response, Callback callback, NodeSandbox guest)
      throws IOException {
    return NODE.serve(request, response, callback, EnvdGuest.of(guest), guest);
  }

  /** Serves one envd request for a container sandbox. */
  static boolean handle(
      Request request, Response response, Callback callback, ContainerSandboxes.Box box)
      throws IOException {
    return NODE.serve(request, response, callback, box, box);
  }

  /**
   * As {@link #handle} for any {@link EnvdGuest}; {@code key} names the sandbox whose running
   * commands are kept.
   */
  boolean serve(Request request, Response response, Callback callback, EnvdGuest guest, Object key)
      throws IOException {
    String path = envdPath(request.getHttpURI().getDecodedPath());
    String method = request.getMethod();
    if (path.startsWith(FS) || path.startsWith(PROC)) {
      rpc(request, response, callback, guest, key, path, method);
    } else if (path.equals("/files")) {
      files(request, response, callback, guest, method);
    } else if (path.equals("/health")) {
      response.setStatus(204);
      callback.succeeded();
    } else {
      httpError(
          response,
          callback,
          new EnvdError(
              EnvdError.Code.NOT_FOUND,
              "envd has no route for this path; "
                  + "it serves /files, /health and the Connect services filesystem.Filesystem and process.Process"));
    }
    return true;
  }

  /**
   * envd's own path in a request's path, whatever prefix the router serves it under ({@code
   * /e2b/sandbox}).
   */
  static String envdPath(String path) {
    for (String service : List.of(FS, PROC)) {
      int i = path.indexOf(service);
      if (i >= 0) {
        return path.substring(i);
      }
    }
    return path.endsWith("/files") ? "/files" : path.endsWith("/health") ? "/health" : path;
  }

  // ---- Connect RPC ----------------------------------------------------------------------------

  private void rpc(
      Request request,
      Response response,
      Callback callback,
      EnvdGuest guest,
      Object key,
      String path,
      String method)
      throws IOException {
    boolean stream =
        switch (path) {
          case PROC + "Start", PROC + "Connect", FS + "WatchDir" -> true;
          default -> false;
        };
    if (!method.equals("POST")) {
      response.getHeaders().put(HttpHeader.ALLOW, "POST");
      connect.unaryError(
          response,
          callback,
          new EnvdError(EnvdError.Code.UNIMPLEMENTED, 405, "Connect calls are POSTs"));
      return;
    }
    if (stream) {
      streaming(request, response, callback, guest, key, path);
      return;
    }
    JsonNode result;
    try {
      JsonNode req = connect.read(request, false);
      result =
          path.startsWith(FS)
              ? filesystem(path.substring(FS.length()), req, guest)
              : process(path.substring(PROC.length()), req, key);
    } catch (RuntimeException e) {
      connect.unaryError(response, callback, envdError(e));
      return;
    }
    connect.unary(response, callback, result);
  }

  private void streaming(
      Request request,
      Response response,
      Callback callback,
      EnvdGuest guest,
      Object key,
      String path) {
    try (EnvdConnect.Stream s = connect.stream(response)) {
      try {
        JsonNode req = connect.read(request, true);
        switch (path) {
          case PROC + "Start" -> start(req, guest, key, s);
          case PROC + "Connect" -> connectTo(req, key, s);
          default ->
              throw EnvdError.unimplemented(
                  "watching a directory is not supported by Spindle's envd; "
                      + "poll with files.list instead");
        }
        s.end(null);
      } catch (RuntimeException e) {
        EnvdError x = envdError(e);
        EnvdConnect.closeIfUnread(response, x);
        s.end(x);
      }
    } catch (IOException | RuntimeException e) {
      callback.failed(e);
      return;
    }
    callback.succeeded();
  }

  /**
   * Any failure as envd's: a node error keeps its message, anything unexpected is {@code internal}.
   */
  static EnvdError envdError(Throwable e) {
    if (e instanceof EnvdError x) {
      return x;
    }
    if (e instanceof ApiError a) {
      EnvdError.Code code =
          a.status == 408
              ? EnvdError.Code.DEADLINE_EXCEEDED
              : a.code.equals("limit_timeout")
                  ? EnvdError.Code.DEADLINE_EXCEEDED
                  : a.status == 413
                      ? EnvdError.Code.INVALID_ARGUMENT
                      : a.status >= 500
                          ? EnvdError.Code.INTERNAL
                          : EnvdError.Code.FAILED_PRECONDITION;
      return new EnvdError(code, a.status, e.getMessage());
    }
    if (e instanceof ExecutionException && e.getCause() != null) {
      return envdError(e.getCause());
    }
    System.err.println("spindle daemon: envd: " + e);
    return new EnvdError(EnvdError.Code.INTERNAL, "envd failed: " + e.getClass().getSimpleName());
  }

  // ---- filesystem.Filesystem -------------------------------------------------------------------

  private JsonNode filesystem(String name, JsonNode req, EnvdGuest guest) {
    return switch (name) {
      case "Stat" -> wrapEntry(files(guest).stat(path(req, "path")));
      case "MakeDir" -> wrapEntry(files(guest).makeDir(path(req, "path")));
      case "Move" -> wrapEntry(files(guest).rename(path(req, "source"), path(req, "destination")));
      case "Remove" -> {
        files(guest).remove(path(req, "path"));
        yield connect.object();
      }
      case "ListDir" -> {
        long depth = req.path("depth").asLong(0);
        if (depth < 0 || depth > MAX_DEPTH) {
          throw EnvdError.invalid("'depth' must be between 1 and " + MAX_DEPTH);
        }
        ObjectNode out = connect.object();
        ArrayNode entries = out.putArray("entries");
        for (EnvdFiles.Entry e :
            files(guest).list(path(req, "path"), (int) Math.max(1, depth), MAX_ENTRIES)) {
          entries.add(entry(e));
        }
        yield out;
      }
      case "CreateWatcher", "GetWatcherEvents", "RemoveWatcher" ->
          throw EnvdError.unimplemented(
              "watching a directory is not supported by Spindle's envd; poll with files.list instead");
      default -> throw EnvdError.unimplemented("filesystem.Filesystem has no method by that name");
    };
  }

  private static EnvdPath path(JsonNode req, String field) {
    JsonNode v = req.get(field);
    if (v != null && !v.isTextual() && !v.isNull()) {
      throw EnvdError.invalid("'" + field + "' must be a string");
    }
    return EnvdPath.parse(field, v == null || v.isNull() ? null : v.asText());
  }

  /**
   * The sandbox's tree, or a clear error when it has none (a WebAssembly sandbox, or no tree given
   * yet).
   */
  static EnvdFiles files(EnvdGuest guest) {
    return tree(guest)
        .orElseThrow(
            () ->
                EnvdError.precondition(
                    "sandbox "
                        + guest.id()
                        + " has no writable file tree: files and file commands need a Python sandbox with "
                        + "its own tree"));
  }

  static Optional<EnvdFiles> tree(EnvdGuest guest) {
    return guest
        .filesRoot()
        .map(root -> new EnvdHostFiles(root, guest.filesMount(), guest.filesOwner()));
  }

  private ObjectNode wrapEntry(EnvdFiles.Entry e) {
    ObjectNode out = connect.object();
    out.set("entry", entry(e));
    return out;
  }

  /**
   * envd's {@code EntryInfo} in protobuf JSON (size is an int64, so a string; the time RFC 3339).
   */
  private ObjectNode entry(EnvdFiles.Entry e) {
    ObjectNode n = connect.object();
    n.put("name", e.name());
    n.put(
        "type",
        switch (e.type()) {
          case FILE -> "FILE_TYPE_FILE";
          case DIR -> "FILE_TYPE_DIRECTORY";
          case SYMLINK -> "FILE_TYPE_SYMLINK";
          case OTHER -> "FILE_TYPE_UNSPECIFIED";
        });
    n.put("path", e.path().toString());
    n.put("size", Long.toString(e.size()));
    n.put("mode", e.mode());
    n.put("permissions", permissions(e));
    n.put("owner", "user");
    n.put("group", "user");
    n.put("modifiedTime", e.modified().toString());
    if (e.symlinkTarget() != null) {
      n.put("symlinkTarget", e.symlinkTarget());
    }
    return n;
  }

  /**
   * As Go's {@code FileMode.String()}, which envd reports: {@code drwxr-xr-x}, {@code -rw-r--r--},
   * {@code Lrwxrwxrwx}.
   */
  static String permissions(EnvdFiles.Entry e) {
    StringBuilder b =
        new StringBuilder(
            switch (e.type()) {
              case DIR -> "d";
              case SYMLINK -> "L";
              default -> "-";
            });
    String rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      b.append((e.mode() & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
    }
    return b.toString();
  }

  // ---- process.Process -------------------------------------------------------------------------

  private EnvdProcesses table(Object key) {
    return processes.computeIfAbsent(key, k -> new EnvdProcesses());
  }

  private JsonNode process(String name, JsonNode req, Object key) {
    EnvdProcesses t = table(key);
    return switch (name) {
      case "List" -> {
        ObjectNode out = connect.object();
        ArrayNode list = out.putArray("processes");
        for (EnvdProcesses.Running r : t.list()) {
          ObjectNode p = list.addObject();
          p.set("config", r.config());
          p.put("pid", r.pid());
          if (r.tag() != null) {
            p.put("tag", r.tag());
          }
        }
        yield out;
      }
      case "SendInput" -> {
        EnvdProcesses.Running r = selected(req, t);
        if (r.process() != null) {
          yield EnvdContainerCommands.sendInput(r, req, this);
        }
        throw EnvdError.precondition(
            "a Python sandbox's commands read no stdin (they run in the interpreter, "
                + "not as processes)");
      }
      case "SendSignal" -> {
        EnvdProcesses.Running r = selected(req, t);
        if (r.process() != null) {
          yield EnvdContainerCommands.signal(r, req, this);
        }
        throw EnvdError.precondition(
            "a running Python command cannot be interrupted: it runs in the sandbox's "
                + "interpreter and ends at the sandbox's timeout");
      }
      case "CloseStdin" -> {
        EnvdProcesses.Running r = selected(req, t);
        if (r.process() != null) {
          yield EnvdContainerCommands.closeStdin(r, this);
        }
        yield connect.object(); // nothing reads it: closing is already true
      }
      case "Update", "StreamInput" ->
          throw EnvdError.unimplemented("terminals (pty) are not supported by Spindle's " + "envd");
      default -> throw EnvdError.unimplemented("process.Process has no method by that name");
    };
  }

  /**
   * The running command a {@code ProcessSelector} ({@code {"pid": N}} or {@code {"tag": T}}) names.
   */
  private static EnvdProcesses.Running selected(JsonNode req, EnvdProcesses t) {
    JsonNode sel = req.path("process");
    EnvdProcesses.Running r;
    if (sel.has("pid")) {
      r = t.find(sel.get("pid").asInt(-1));
    } else if (sel.hasNonNull("tag")) {
      r = t.findTag(sel.get("tag").asText());
    } else {
      throw EnvdError.invalid("'process' must select a process by 'pid' or 'tag'");
    }
    if (r == null) {
      throw EnvdError.notFound(
          "no running command with that "
              + (sel.has("pid") ? "pid" : "tag")
              + " (a command leaves the list when it ends)");
    }
    return r;
  }

  private void start(JsonNode req, EnvdGuest guest, Object key, EnvdConnect.Stream s)
      throws IOException {
    if (req.hasNonNull("pty")) {
      throw EnvdError.unimplemented(
          "terminals (pty) are not supported by Spindle's envd; use commands.run");
    }
    JsonNode config = req.path("process");
    String cmd = config.path("cmd").asText("");
    List<String> args = strings(config.path("args"), "process.args");
    Map<String, String> envs = new LinkedHashMap<>();
    config.path("envs").properties().forEach(en -> envs.put(en.getKey(), en.getValue().asText()));
    String cwd =
        config.hasNonNull("cwd")
            ? EnvdPath.parse("process.cwd", config.get("cwd").asText()).toString()
            : EnvdPath.HOME;
    if (guest.containerBox().isPresent()) {
      EnvdContainerCommands.run(
          guest.containerBox().get(),
          table(key),
          req,
          config,
          cmd,
          args,
          envs,
          shellLine(cmd, args),
          this,
          s);
      return;
    }
    if (!guest.isPython()) {
      throw EnvdError.precondition(
          "sandbox "
              + guest.id()
              + " is not a Python sandbox: Spindle's envd runs commands "
              + "in Python sandboxes (python -c, python FILE, and the built-ins "
              + String.join(", ", EnvdProgram.BUILT_INS)
              + ")");
    }
    Optional<EnvdFiles> files = tree(guest);
    EnvdProgram program = new EnvdProgram(guest, files, cwd, envs);
    EnvdProcesses t = table(key);
    EnvdProcesses.Running r =
        t.start(req.hasNonNull("tag") ? req.get("tag").asText() : null, config.deepCopy());
    try {
      s.send(event("start", connect.object().put("pid", r.pid())));
      EnvdProgram.Outcome o;
      try {
        String line = shellLine(cmd, args);
        o = program.run(line != null ? line : words(cmd, args));
      } catch (RuntimeException e) {
        r.done().completeExceptionally(e);
        throw e;
      }
      r.done().complete(o);
      sendOutcome(s, o);
    } finally {
      t.finish(r);
    }
  }

  /** The line of a {@code bash -c LINE} (how the SDK wraps every command), else null. */
  static String shellLine(String cmd, List<String> args) {
    if (!List.of("/bin/bash", "bash", "/bin/sh", "sh", "/usr/bin/bash").contains(cmd)) {
      return null;
    }
    int c = args.indexOf("-c");
    return c >= 0 && c + 1 < args.size() ? args.get(c + 1) : null;
  }

  /** A command given as a program and its arguments, no shell: quoted back into one line. */
  private static String words(String cmd, List<String> args) {
    StringBuilder b = new StringBuilder(quote(cmd));
    for (String a : args) {
      b.append(' ').append(quote(a));
    }
    return b.toString();
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static List<String> strings(JsonNode n, String field) {
    if (n.isMissingNode() || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw EnvdError.invalid("'" + field + "' must be a list of strings");
    }
    return java.util.stream.StreamSupport.stream(n.spliterator(), false)
        .map(JsonNode::asText)
        .toList();
  }

  private void connectTo(JsonNode req, Object key, EnvdConnect.Stream s) throws IOException {
    EnvdProcesses.Running r = selected(req, table(key));
    s.send(event("start", connect.object().put("pid", r.pid())));
    EnvdProgram.Outcome o;
    try {
      o = r.done().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EnvdError(EnvdError.Code.CANCELED, "interrupted while waiting for the command");
    } catch (ExecutionException e) {
      throw envdError(e.getCause());
    }
    sendOutcome(s, o);
  }

  private void sendOutcome(EnvdConnect.Stream s, EnvdProgram.Outcome o) throws IOException {
    data(s, "stdout", o.stdout());
    data(s, "stderr", o.stderr());
    ObjectNode end = connect.object();
    end.put("exitCode", o.exitCode());
    end.put("exited", true);
    end.put("status", "exit status " + o.exitCode());
    if (o.error() != null) {
      end.put("error", o.error());
    }
    s.send(event("end", end));
  }

  private void data(EnvdConnect.Stream s, String stream, byte[] bytes) throws IOException {
    for (int off = 0; off < bytes.length; off += CHUNK) {
      byte[] chunk = Arrays.copyOfRange(bytes, off, Math.min(bytes.length, off + CHUNK));
      s.send(
          event("data", connect.object().put(stream, Base64.getEncoder().encodeToString(chunk))));
    }
  }

  /** A {@code StartResponse}/{@code ConnectResponse}: {@code {"event": {KIND: VALUE}}}. */
  ObjectNode connectObject() {
    return connect.object();
  }

  ObjectNode event(String kind, ObjectNode value) {
    ObjectNode e = connect.object();
    e.putObject("event").set(kind, value);
    return e;
  }

  // ---- /files
  // ------------------------------------------------------------------------------------

  private void files(
      Request request, Response response, Callback callback, EnvdGuest guest, String method)
      throws IOException {
    try {
      switch (method) {
        case "GET" -> download(request, response, callback, guest);
        case "POST" -> upload(request, response, callback, guest);
        default -> {
          response.getHeaders().put(HttpHeader.ALLOW, "GET, POST");
          throw new EnvdError(
              EnvdError.Code.UNIMPLEMENTED, 405, "/files takes GET (download) and POST (upload)");
        }
      }
    } catch (RuntimeException e) {
      httpError(response, callback, envdError(e));
    }
  }

  private void download(Request request, Response response, Callback callback, EnvdGuest guest) {
    EnvdPath path =
        EnvdPath.parse("path", Request.extractQueryParameters(request).getValue("path"));
    EnvdFiles.Opened o = files(guest).read(path);
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, o.size());
    try (InputStream in = o.in();
        OutputStream out = Content.Sink.asOutputStream(response)) {
      // Exactly the length announced: a file that grew since is cut there, one that shrank fails.
      byte[] buf = new byte[1 << 16];
      for (long left = o.size(); left > 0; ) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new java.io.EOFException("the file shrank while it was sent");
        }
        out.write(buf, 0, n);
        left -= n;
      }
    } catch (IOException e) {
      callback.failed(e);
      return;
    }
    callback.succeeded();
  }

  private void upload(Request request, Response response, Callback callback, EnvdGuest guest)
      throws IOException {
    // Read (bounded) before anything is judged: a refused upload leaves the connection clean.
    byte[] body = new Exchange(request, Map.of(), connect.json()).bytes(Exchange.MAX_BODY);
    for (var f : request.getHeaders()) {
      if (f.getName().regionMatches(true, 0, "X-Metadata-", 0, "X-Metadata-".length())) {
        throw EnvdError.invalid(
            "file metadata (X-Metadata-* headers) is not supported by Spindle's envd");
      }
    }
    String query = Request.extractQueryParameters(request).getValue("path");
    EnvdFiles files = files(guest);
    String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    ArrayNode written = connect.json().createArrayNode();
    String boundary = EnvdMultipart.boundary(type);
    if (boundary != null) {
      List<EnvdMultipart.Part> parts =
          EnvdMultipart.parse(body, boundary).stream()
              .filter(p -> "file".equals(p.name()))
              .toList();
      if (parts.isEmpty()) {
        throw EnvdError.invalid("the upload has no part named 'file'");
      }
      for (EnvdMultipart.Part p : parts) {
        String dest = query != null && parts.size() == 1 ? query : p.filename();
        written.add(uploaded(files.write(EnvdPath.parse("path", dest), p.data())));
      }
    } else {
      String encoding = request.getHeaders().get(HttpHeader.CONTENT_ENCODING);
      byte[] data = encoding != null && encoding.equalsIgnoreCase("gzip") ? gunzip(body) : body;
      if (encoding != null
          && !encoding.equalsIgnoreCase("gzip")
          && !encoding.equalsIgnoreCase("identity")) {
        throw EnvdError.invalid("Content-Encoding must be gzip or identity");
      }
      written.add(uploaded(files.write(EnvdPath.parse("path", query), data)));
    }
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, ByteBuffer.wrap(connect.json().writeValueAsBytes(written)), callback);
  }

  /**
   * A gzip body inflated, held to the same cap as a plain one (a small bomb must not fill the
   * heap).
   */
  private static byte[] gunzip(byte[] body) {
    try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(body))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        if (out.size() + n > Exchange.MAX_BODY) {
          throw new EnvdError(
              EnvdError.Code.INVALID_ARGUMENT,
              413,
              "the upload inflates past " + (Exchange.MAX_BODY >> 20) + " MiB");
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw EnvdError.invalid("the body is not valid gzip");
    }
  }

  /** envd's HTTP {@code EntryInfo}: {@code {name, type: "file", path}}. */
  private ObjectNode uploaded(EnvdFiles.Entry e) {
    ObjectNode n = connect.object();
    n.put("name", e.name());
    n.put("type", "file");
    n.put("path", e.path().toString());
    return n;
  }

  /** envd's HTTP error: the status and {@code {"code": STATUS, "message"}}. */
  private void httpError(Response response, Callback callback, EnvdError e) throws IOException {
    EnvdConnect.closeIfUnread(response, e);
    response.setStatus(e.http);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    ObjectNode n = connect.object();
    n.put("code", e.http);
    n.put("message", e.getMessage());
    response.write(true, ByteBuffer.wrap(connect.json().writeValueAsBytes(n)), callback);
  }
}
