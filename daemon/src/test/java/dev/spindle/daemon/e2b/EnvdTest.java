package dev.spindle.daemon.e2b;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.sandbox.python.EvalResult;
import dev.spindle.sandbox.python.PythonRuntime;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * envd over a real socket, in the wire format the E2B SDK (2.51.0) sends: Connect unary calls as
 * {@code application/json}, server streams as {@code application/connect+json} envelopes, the
 * plain-HTTP {@code /files}. Sandbox {@code fs} is a tree that is the guest's {@code /}; sandbox
 * {@code py} a real CPython whose {@code /guest} is the tree the files API writes (the module was
 * pre-initialised with that one preopen, so the test mounts its tree there), so what one side
 * writes the other reads.
 */
class EnvdTest {
  @TempDir static Path tmp;
  static Path tree;
  static Path guestDir;
  static Path outside;
  static PythonRuntime py;
  static Server server;
  static String base;
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  /**
   * A sandbox as envd sees it: a tree (or none) mounted at {@code mount}, and an interpreter (or
   * none).
   */
  record TestGuest(String id, Path root, String mount, PythonRuntime python) implements EnvdGuest {
    @Override
    public EnvdPath filesMount() {
      return EnvdPath.parse("mount", mount);
    }

    @Override
    public Optional<Path> filesRoot() {
      return Optional.ofNullable(root);
    }

    @Override
    public boolean isPython() {
      return python != null;
    }

    @Override
    public EvalResult eval(String code) {
      synchronized (python) {
        return python.eval(code);
      }
    }
  }

  @BeforeAll
  static void start() throws Exception {
    tree = Files.createDirectories(tmp.resolve("tree"));
    Files.createDirectories(tree.resolve("home/user"));
    outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("secret.txt"), "host secret");
    py =
        PythonRuntime.start(
            PythonRuntime.sandbox(tmp.resolve("guest")).timeout(Duration.ofSeconds(60)).build());
    try (var dirs = Files.list(tmp.resolve("guest"))) {
      guestDir = dirs.findFirst().orElseThrow(); // where guest.py was written: the guest's /guest
    }
    Envd envd = new Envd();
    java.util.Map<String, TestGuest> guests =
        java.util.Map.of(
            "fs",
            new TestGuest("fs", tree, "/", null),
            "py",
            new TestGuest("py", guestDir, "/guest", py),
            "wasm",
            new TestGuest("wasm", null, "/", null));
    server = new Server();
    ServerConnector c = new ServerConnector(server);
    c.setHost("127.0.0.1");
    c.setPort(0);
    server.addConnector(c);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback)
              throws Exception {
            String id = request.getHeaders().get("E2b-Sandbox-Id");
            TestGuest g = guests.get(id == null ? "fs" : id);
            return envd.serve(request, response, callback, g, g);
          }
        });
    server.start();
    base = "http://127.0.0.1:" + c.getLocalPort() + "/e2b/sandbox";
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
    if (py != null) {
      py.close();
    }
  }

  // ---- the wire ----

  record Reply(int status, String contentType, JsonNode body) {}

  static Reply unary(String method, String json) throws Exception {
    return unary(method, json, "fs");
  }

  static Reply unary(String method, String json, String sandbox) throws Exception {
    HttpResponse<byte[]> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/" + method))
                .header("Content-Type", "application/json")
                .header("Connect-Protocol-Version", "1")
                .header("E2b-Sandbox-Id", sandbox)
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    return new Reply(
        r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), JSON.readTree(r.body()));
  }

  record Envelope(int flags, JsonNode body) {}

  /** A server-streaming call: the request as one envelope, the answer split into its envelopes. */
  static List<Envelope> stream(String method, String json, String sandbox) throws Exception {
    byte[] msg = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer req = ByteBuffer.allocate(5 + msg.length).put((byte) 0).putInt(msg.length).put(msg);
    HttpResponse<byte[]> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/" + method))
                .header("Content-Type", "application/connect+json")
                .header("Connect-Protocol-Version", "1")
                .header("E2b-Sandbox-Id", sandbox)
                .POST(HttpRequest.BodyPublishers.ofByteArray(req.array()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).as("a stream answers 200, errors in its end message").isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).contains("application/connect+json");
    ByteBuffer b = ByteBuffer.wrap(r.body());
    List<Envelope> out = new ArrayList<>();
    while (b.hasRemaining()) {
      int flags = b.get() & 0xff;
      byte[] body = new byte[b.getInt()];
      b.get(body);
      out.add(new Envelope(flags, JSON.readTree(body)));
    }
    assertThat(out).isNotEmpty();
    assertThat(out.getLast().flags()).as("the last envelope ends the stream").isEqualTo(2);
    return out;
  }

  /** What a command did, as the SDK's CommandHandle collects it. */
  record Run(
      int pid, String stdout, String stderr, Integer exitCode, String error, JsonNode endError) {}

  /** A command in the Python sandbox, in the directory its tree is mounted at. */
  static Run run(String cmd) throws Exception {
    return run(cmd, ",\"cwd\":\"/guest\"");
  }

  static Run run(String cmd, String extra) throws Exception {
    String req =
        "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-l\",\"-c\","
            + JSON.writeValueAsString(cmd)
            + "]"
            + extra
            + "},\"stdin\":false}";
    List<Envelope> events = stream("process.Process/Start", req, "py");
    int pid = -1;
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    Integer exit = null;
    String error = null;
    for (Envelope e : events) {
      JsonNode ev = e.body().path("event");
      if (ev.has("start")) {
        pid = ev.get("start").get("pid").asInt();
      } else if (ev.has("data")) {
        JsonNode d = ev.get("data");
        if (d.has("stdout")) {
          out.append(
              new String(
                  Base64.getDecoder().decode(d.get("stdout").asText()), StandardCharsets.UTF_8));
        }
        if (d.has("stderr")) {
          err.append(
              new String(
                  Base64.getDecoder().decode(d.get("stderr").asText()), StandardCharsets.UTF_8));
        }
      } else if (ev.has("end")) {
        exit = ev.get("end").path("exitCode").asInt(0);
        assertThat(ev.get("end").path("exited").asBoolean()).isTrue();
        error = ev.get("end").path("error").textValue();
      }
    }
    return new Run(
        pid, out.toString(), err.toString(), exit, error, events.getLast().body().get("error"));
  }

  static HttpResponse<byte[]> upload(String query, byte[] multipartBody, String boundary)
      throws Exception {
    return upload(query, multipartBody, boundary, "fs");
  }

  static HttpResponse<byte[]> upload(
      String query, byte[] multipartBody, String boundary, String sandbox) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(base + "/files" + query))
            .header("E2b-Sandbox-Id", sandbox)
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(multipartBody))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  static byte[] multipart(String boundary, String[]... files) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (String[] f : files) {
      b.writeBytes(
          ("--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                  + f[0]
                  + "\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                  + f[1]
                  + "\r\n")
              .getBytes(StandardCharsets.UTF_8));
    }
    b.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return b.toByteArray();
  }

  static HttpResponse<byte[]> download(String path) throws Exception {
    return download(path, "fs");
  }

  static HttpResponse<byte[]> download(String path, String sandbox) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(
                URI.create(
                    base
                        + "/files?path="
                        + java.net.URLEncoder.encode(path, StandardCharsets.UTF_8)
                        + "&username=user"))
            .header("E2b-Sandbox-Id", sandbox)
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  // ---- files ----

  @Test
  void filesRoundTripThroughTheTreePythonSees() throws Exception {
    String boundary = "----spindle" + System.nanoTime();
    HttpResponse<byte[]> up =
        upload(
            "?path=%2Fhome%2Fuser%2Fdocs%2Fa.txt&username=user",
            multipart(boundary, new String[] {"/home/user/docs/a.txt", "hello from the SDK"}),
            boundary);
    assertThat(up.statusCode()).isEqualTo(200);
    JsonNode written = JSON.readTree(up.body());
    assertThat(written.isArray()).isTrue();
    assertThat(written.get(0).get("path").asText()).isEqualTo("/home/user/docs/a.txt");
    assertThat(written.get(0).get("name").asText()).isEqualTo("a.txt");
    assertThat(written.get(0).get("type").asText()).isEqualTo("file");
    assertThat(Files.readString(tree.resolve("home/user/docs/a.txt")))
        .isEqualTo("hello from the SDK");

    HttpResponse<byte[]> down = download("/home/user/docs/a.txt");
    assertThat(down.statusCode()).isEqualTo(200);
    assertThat(new String(down.body(), StandardCharsets.UTF_8)).isEqualTo("hello from the SDK");
    assertThat(down.headers().firstValue("Content-Length")).contains("18");
    // Relative paths are the user's home, as envd reads them.
    assertThat(new String(download("docs/a.txt").body(), StandardCharsets.UTF_8))
        .isEqualTo("hello from the SDK");

    // Several files in one upload: each part's filename is its path.
    HttpResponse<byte[]> many =
        upload(
            "?username=user",
            multipart(
                boundary,
                new String[] {"/home/user/m/1.txt", "one"},
                new String[] {"/home/user/m/2.txt", "two"}),
            boundary);
    assertThat(many.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(many.body()).size()).isEqualTo(2);
    assertThat(Files.readString(tree.resolve("home/user/m/2.txt"))).isEqualTo("two");

    Reply stat = unary("filesystem.Filesystem/Stat", "{\"path\":\"/home/user/docs/a.txt\"}");
    assertThat(stat.status()).isEqualTo(200);
    assertThat(stat.contentType()).startsWith("application/json");
    JsonNode e = stat.body().get("entry");
    assertThat(e.get("name").asText()).isEqualTo("a.txt");
    assertThat(e.get("type").asText()).isEqualTo("FILE_TYPE_FILE");
    assertThat(e.get("size").asText()).as("int64 is a string in protobuf JSON").isEqualTo("18");
    assertThat(e.get("permissions").asText()).startsWith("-rw");
    assertThat(java.time.Instant.parse(e.get("modifiedTime").asText())).isNotNull();

    Reply list = unary("filesystem.Filesystem/ListDir", "{\"path\":\"/home/user\",\"depth\":1}");
    assertThat(list.body().get("entries").findValuesAsText("path"))
        .containsSubsequence("/home/user/docs", "/home/user/m");
    Reply deep =
        unary("filesystem.Filesystem/ListDir", "{\"path\":\"/home/user/docs\",\"depth\":2}");
    assertThat(deep.body().get("entries").findValuesAsText("path"))
        .containsExactly("/home/user/docs/a.txt");
    Reply two = unary("filesystem.Filesystem/ListDir", "{\"path\":\"/home\",\"depth\":3}");
    assertThat(two.body().get("entries").findValuesAsText("path"))
        .containsSubsequence(
            "/home/user",
            "/home/user/docs",
            "/home/user/docs/a.txt",
            "/home/user/m",
            "/home/user/m/1.txt",
            "/home/user/m/2.txt");
    assertThat(two.body().get("entries").get(0).get("type").asText())
        .isEqualTo("FILE_TYPE_DIRECTORY");

    Reply made = unary("filesystem.Filesystem/MakeDir", "{\"path\":\"/home/user/x/y\"}");
    assertThat(made.status()).isEqualTo(200);
    assertThat(made.body().get("entry").get("path").asText()).isEqualTo("/home/user/x/y");
    Reply again = unary("filesystem.Filesystem/MakeDir", "{\"path\":\"/home/user/x/y\"}");
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.body().get("code").asText())
        .as("files.makeDir answers false on it")
        .isEqualTo("already_exists");

    Reply moved =
        unary(
            "filesystem.Filesystem/Move",
            "{\"source\":\"/home/user/docs/a.txt\",\"destination\":\"/home/user/x/y/c.txt\"}");
    assertThat(moved.status()).isEqualTo(200);
    assertThat(moved.body().get("entry").get("path").asText()).isEqualTo("/home/user/x/y/c.txt");
    assertThat(Files.exists(tree.resolve("home/user/docs/a.txt"))).isFalse();
    assertThat(Files.readString(tree.resolve("home/user/x/y/c.txt")))
        .isEqualTo("hello from the SDK");

    assertThat(unary("filesystem.Filesystem/Remove", "{\"path\":\"/home/user/x\"}").status())
        .isEqualTo(200);
    assertThat(Files.exists(tree.resolve("home/user/x"))).isFalse();
    Reply gone = unary("filesystem.Filesystem/Stat", "{\"path\":\"/home/user/x\"}");
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.body().get("code").asText())
        .as("files.exists answers false on it")
        .isEqualTo("not_found");
    assertThat(gone.body().get("message").asText()).contains("/home/user/x");

    HttpResponse<byte[]> missing = download("/home/user/nope.txt");
    assertThat(missing.statusCode()).isEqualTo(404);
    JsonNode err = JSON.readTree(missing.body());
    assertThat(err.get("code").asInt()).isEqualTo(404);
    assertThat(err.get("message").asText()).contains("no such file");
  }

  @Test
  void pythonInTheSandboxSeesWhatTheFilesApiWritesAndTheReverse() throws Exception {
    String boundary = "----py" + System.nanoTime();
    HttpResponse<byte[]> up =
        upload(
            "?path=/guest/docs/a.txt",
            multipart(boundary, new String[] {"/guest/docs/a.txt", "hello from the SDK"}),
            boundary,
            "py");
    assertThat(up.statusCode()).isEqualTo(200);
    Run cat = run("python -c \"print(open('/guest/docs/a.txt').read().upper())\"");
    assertThat(cat.stdout()).as("%s", cat).isEqualTo("HELLO FROM THE SDK\n");
    assertThat(cat.exitCode()).isZero();
    assertThat(run("python3 -c \"open('/guest/docs/b.txt', 'w').write('from python')\"").exitCode())
        .isZero();
    HttpResponse<byte[]> down = download("/guest/docs/b.txt", "py");
    assertThat(down.statusCode()).isEqualTo(200);
    assertThat(new String(down.body(), StandardCharsets.UTF_8)).isEqualTo("from python");
    Reply list = unary("filesystem.Filesystem/ListDir", "{\"path\":\"/guest/docs\"}", "py");
    assertThat(list.body().get("entries").findValuesAsText("name"))
        .containsExactly("a.txt", "b.txt");
    // Outside the tree's mount is refused, not guessed at.
    Reply outsideMount = unary("filesystem.Filesystem/Stat", "{\"path\":\"/etc/passwd\"}", "py");
    assertThat(outsideMount.status()).isEqualTo(400);
    assertThat(outsideMount.body().get("message").asText())
        .contains("outside the sandbox's writable tree");
  }

  @Test
  void rawAndGzipUploadsAndDirectoryErrors() throws Exception {
    byte[] data = "raw bytes\n".getBytes(StandardCharsets.UTF_8);
    HttpResponse<byte[]> raw =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/files?path=/home/user/raw.bin"))
                .header("E2b-Sandbox-Id", "fs")
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(data))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(Files.readString(tree.resolve("home/user/raw.bin"))).isEqualTo("raw bytes\n");

    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (var z = new java.util.zip.GZIPOutputStream(gz)) {
      z.write("zipped".getBytes(StandardCharsets.UTF_8));
    }
    HttpResponse<byte[]> zipped =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/files?path=/home/user/z.txt"))
                .header("E2b-Sandbox-Id", "fs")
                .header("Content-Type", "application/octet-stream")
                .header("Content-Encoding", "gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(gz.toByteArray()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(zipped.statusCode()).isEqualTo(200);
    assertThat(Files.readString(tree.resolve("home/user/z.txt"))).isEqualTo("zipped");

    // A FIFO (which no sandbox can make, but a host or an image could hold) is refused, never
    // opened:
    // opening one blocks until a writer comes.
    Process mkfifo =
        new ProcessBuilder("mkfifo", tree.resolve("home/user/fifo").toString()).start();
    assertThat(mkfifo.waitFor()).isZero();
    HttpResponse<byte[]> fifo = download("/home/user/fifo");
    assertThat(fifo.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(fifo.body()).get("message").asText()).contains("not a regular file");
    assertThat(
            unary("filesystem.Filesystem/Stat", "{\"path\":\"/home/user/fifo\"}")
                .body()
                .get("entry")
                .get("type")
                .asText())
        .isEqualTo("FILE_TYPE_UNSPECIFIED");

    HttpResponse<byte[]> dir = download("/home/user");
    assertThat(dir.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(dir.body()).get("message").asText()).contains("is a directory");
    Reply above = unary("filesystem.Filesystem/Stat", "{\"path\":\"/../etc\"}");
    assertThat(above.status()).isEqualTo(400);
    assertThat(above.body().get("code").asText()).isEqualTo("invalid_argument");
    Reply up = unary("filesystem.Filesystem/Stat", "{\"path\":\"/home/user/../user/raw.bin\"}");
    assertThat(up.body().get("entry").get("path").asText())
        .as("cleaned as envd cleans")
        .isEqualTo("/home/user/raw.bin");
  }

  /** A guest can make links in its tree; the host following one would hand it the host's files. */
  @Test
  void linksInTheTreeAreReportedNeverFollowed() throws Exception {
    Path links = Files.createDirectories(tree.resolve("home/user/links"));
    Files.createSymbolicLink(links.resolve("out"), outside);
    Files.createSymbolicLink(links.resolve("secret"), outside.resolve("secret.txt"));

    Reply stat = unary("filesystem.Filesystem/Stat", "{\"path\":\"/home/user/links/secret\"}");
    assertThat(stat.body().get("entry").get("type").asText()).isEqualTo("FILE_TYPE_SYMLINK");
    assertThat(stat.body().get("entry").get("symlinkTarget").asText())
        .isEqualTo(outside.resolve("secret.txt").toString());

    HttpResponse<byte[]> read = download("/home/user/links/secret");
    assertThat(read.statusCode()).isEqualTo(400);
    assertThat(new String(read.body(), StandardCharsets.UTF_8)).doesNotContain("host secret");
    assertThat(download("/home/user/links/out/secret.txt").statusCode()).isEqualTo(400);

    String boundary = "b" + System.nanoTime();
    HttpResponse<byte[]> through =
        upload(
            "?path=/home/user/links/out/planted.txt",
            multipart(boundary, new String[] {"x", "planted"}),
            boundary);
    assertThat(through.statusCode()).isEqualTo(400);
    HttpResponse<byte[]> onto =
        upload(
            "?path=/home/user/links/secret",
            multipart(boundary, new String[] {"x", "over"}),
            boundary);
    assertThat(onto.statusCode())
        .as(new String(onto.body(), StandardCharsets.UTF_8))
        .isEqualTo(400);
    assertThat(
            unary("filesystem.Filesystem/ListDir", "{\"path\":\"/home/user/links/out\"}").status())
        .isEqualTo(400);
    assertThat(
            unary("filesystem.Filesystem/MakeDir", "{\"path\":\"/home/user/links/out/d\"}")
                .status())
        .isEqualTo(400);
    assertThat(
            unary(
                    "filesystem.Filesystem/Move",
                    "{\"source\":\"/home/user/links/out/secret.txt\",\"destination\":\"/home/user/stolen\"}")
                .status())
        .isEqualTo(400);

    // Removing the directory removes the links, not what they point to.
    assertThat(unary("filesystem.Filesystem/Remove", "{\"path\":\"/home/user/links\"}").status())
        .isEqualTo(200);
    assertThat(Files.exists(links, java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.readString(outside.resolve("secret.txt"))).isEqualTo("host secret");
    try (var s = Files.list(outside)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("secret.txt");
    }
  }

  // ---- commands ----

  @Test
  void pythonCommandsExitAsProcessesDo() throws Exception {
    Run ok = run("python -c 'import sys; print(sys.argv); print(\"err\", file=sys.stderr)' a b");
    assertThat(ok.pid()).isPositive();
    assertThat(ok.stdout()).isEqualTo("['-c', 'a', 'b']\n");
    assertThat(ok.stderr()).isEqualTo("err\n");
    assertThat(ok.exitCode()).isZero();
    assertThat(ok.error()).isNull();

    Run exit = run("python -c 'import sys; sys.exit(3)'");
    assertThat(exit.exitCode()).isEqualTo(3);
    assertThat(exit.error()).isEqualTo("exit status 3");

    Run raised = run("python -c '1/0'");
    assertThat(raised.exitCode()).isEqualTo(1);
    assertThat(raised.stderr())
        .isEqualTo(
            "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\n"
                + "ZeroDivisionError: division by zero\n");

    // A command runs in a namespace of its own: the sandbox's session keeps none of it.
    run("python -c 'leaked = 1'");
    assertThat(run("python -c 'print(\"leaked\" in globals())'").stdout()).isEqualTo("False\n");

    Files.writeString(
        guestDir.resolve("prog.py"),
        "import os, sys\nprint(sys.argv[1:], os.environ.get('GREETING'), "
            + "os.getcwd(), __name__)\n");
    Run file = run("python prog.py x 'y z'", ",\"cwd\":\"/guest\",\"envs\":{\"GREETING\":\"hi\"}");
    assertThat(file.stdout()).as("%s", file).isEqualTo("['x', 'y z'] hi /guest __main__\n");
    Files.writeString(guestDir.resolve("fails.py"), "def f():\n    raise ValueError('bad')\nf()\n");
    Run fails = run("python /guest/fails.py");
    assertThat(fails.exitCode()).isEqualTo(1);
    assertThat(fails.stderr())
        .as("the traceback a process would print: no runner frames")
        .startsWith(
            "Traceback (most recent call last):\n  File \"/guest/fails.py\", line 3, in <module>")
        .doesNotContain("spindle")
        .doesNotContain("runpy")
        .endsWith("ValueError: bad\n");
    assertThat(run("python -c 'import os; print(os.environ.get(\"GREETING\"))'").stdout())
        .as("envs are the command's only")
        .isEqualTo("None\n");
    Files.createDirectories(guestDir.resolve("sub"));
    assertThat(run("python -c 'import os; print(os.getcwd())'", ",\"cwd\":\"/guest/sub\"").stdout())
        .isEqualTo("/guest/sub\n");
  }

  @Test
  void builtInsActOnTheSameTree() throws Exception {
    assertThat(run("echo hello   'two  spaces'").stdout()).isEqualTo("hello two  spaces\n");
    assertThat(run("pwd").stdout()).isEqualTo("/guest\n");
    assertThat(run("mkdir -p b1/c").exitCode()).isZero();
    assertThat(Files.isDirectory(guestDir.resolve("b1/c"))).isTrue();
    Run noParent = run("mkdir b2/c");
    assertThat(noParent.exitCode()).isEqualTo(1);
    assertThat(noParent.stderr()).startsWith("mkdir: cannot create directory 'b2/c'");
    Files.writeString(guestDir.resolve("b1/f.txt"), "file text\n");
    assertThat(run("ls b1").stdout()).isEqualTo("c\nf.txt\n");
    assertThat(run("cat b1/f.txt /guest/b1/f.txt").stdout()).isEqualTo("file text\nfile text\n");
    assertThat(run("python -c 'import os; print(sorted(os.listdir(\"/guest/b1\")))'").stdout())
        .as("what the built-ins made, Python sees")
        .isEqualTo("['c', 'f.txt']\n");
    Run dirRm = run("rm b1");
    assertThat(dirRm.exitCode()).isEqualTo(1);
    assertThat(dirRm.stderr()).contains("Is a directory");
    assertThat(run("rm -rf b1 nothing-here").exitCode()).isZero();
    assertThat(Files.exists(guestDir.resolve("b1"))).isFalse();
  }

  @Test
  void whatNeedsAShellOrAnotherProgramFailsAtOnceSayingSo() throws Exception {
    Run unknown = run("ls -l | grep x");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.stderr()).contains("a pipe ('|') needs a shell");
    Run npm = run("npm install");
    assertThat(npm.exitCode()).isEqualTo(127);
    assertThat(npm.stderr()).contains("npm: command not found").contains("python -c CODE");
    assertThat(npm.error()).isEqualTo("exit status 127");
    Run vars = run("echo $HOME");
    assertThat(vars.exitCode()).isEqualTo(2);

    // A sandbox without an interpreter: the stream ends with Connect's error at once.
    List<Envelope> wasm =
        stream(
            "process.Process/Start",
            "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-l\",\"-c\",\"echo hi\"]}}",
            "wasm");
    assertThat(wasm).hasSize(1);
    assertThat(wasm.getFirst().body().get("error").get("code").asText())
        .isEqualTo("failed_precondition");
    Reply noTree = unary("filesystem.Filesystem/Stat", "{\"path\":\"/home/user\"}", "wasm");
    assertThat(noTree.status()).isEqualTo(400);
    assertThat(noTree.body().get("code").asText()).isEqualTo("failed_precondition");
    assertThat(noTree.body().get("message").asText()).contains("no writable file tree");

    Reply noTreeInMount = unary("filesystem.Filesystem/Stat", "{\"path\":\"x\"}", "py");
    assertThat(noTreeInMount.body().get("message").asText())
        .as("relative is the home, outside this tree")
        .contains("/home/user/x is outside");
    List<Envelope> pty =
        stream(
            "process.Process/Start",
            "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-i\",\"-l\"]},\"pty\":{\"size\":{\"cols\":80,\"rows\":24}}}",
            "py");
    assertThat(pty.getLast().body().get("error").get("code").asText()).isEqualTo("unimplemented");
    List<Envelope> watch =
        stream("filesystem.Filesystem/WatchDir", "{\"path\":\"/home/user\"}", "py");
    assertThat(watch.getLast().body().get("error").get("code").asText()).isEqualTo("unimplemented");
  }

  @Test
  void processTableAndSelectorsAnswerAsEnvd() throws Exception {
    Reply list = unary("process.Process/List", "{}", "py");
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.body().get("processes").size())
        .as("a finished command leaves the list")
        .isZero();
    Reply kill =
        unary(
            "process.Process/SendSignal",
            "{\"process\":{\"pid\":99999},\"signal\":\"SIGNAL_SIGKILL\"}",
            "py");
    assertThat(kill.status()).isEqualTo(404);
    assertThat(kill.body().get("code").asText())
        .as("commands.kill answers false on it")
        .isEqualTo("not_found");
    List<Envelope> connect =
        stream("process.Process/Connect", "{\"process\":{\"pid\":99999}}", "py");
    assertThat(connect.getLast().body().get("error").get("code").asText()).isEqualTo("not_found");
  }

  // ---- the protocol's edges ----

  @Test
  void wrongContentTypesMethodsAndSizesAreRefusedInTheProtocolsShape() throws Exception {
    HttpResponse<byte[]> proto =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/filesystem.Filesystem/Stat"))
                .header("Content-Type", "application/proto")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {10, 1, 47}))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(proto.statusCode())
        .as(new String(proto.body(), StandardCharsets.UTF_8))
        .isEqualTo(415);
    assertThat(JSON.readTree(proto.body()).get("message").asText())
        .contains("binary protobuf is not supported");

    Reply notJson = unary("filesystem.Filesystem/Stat", "{\"path\":");
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(notJson.body().get("code").asText()).isEqualTo("invalid_argument");
    Reply unknown = unary("filesystem.Filesystem/Chmod", "{}");
    assertThat(unknown.status()).isEqualTo(501);

    HttpResponse<byte[]> tooLarge =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/filesystem.Filesystem/Stat"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofByteArray(
                        new byte[(int) EnvdConnect.MAX_REQUEST + 1]))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(JSON.readTree(tooLarge.body()).get("code").asText()).isEqualTo("invalid_argument");
    assertThat(JSON.readTree(tooLarge.body()).get("message").asText())
        .contains("the most is " + EnvdConnect.MAX_REQUEST);

    HttpResponse<byte[]> health =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/health")).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(health.statusCode()).isEqualTo(204);
    HttpResponse<byte[]> nowhere =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/nowhere")).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(nowhere.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(nowhere.body()).get("code").asInt()).isEqualTo(404);
  }
}
