package dev.spindle.daemon.e2b;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.sandbox.python.PythonRuntime;
import dev.spindle.store.SpindleCache;
import dev.spindle.testing.Requirements;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
 * E2B's own SDK ({@code e2b} 2.51.0, pinned in daemon/NPM-PACKAGES) driving {@link Envd} with
 * {@code sandbox.files} and {@code sandbox.commands} from node ({@code e2b/envd.cjs}). The control
 * plane is a stub that only answers {@code Sandbox.connect} (the node's real one is {@link
 * E2bSdkTest}'s), so what is tested is envd's wire format as the SDK speaks it, access token
 * included. The sandbox is a real CPython whose {@code /guest} is the tree.
 */
@Requires(Tool.E2B_SDK)
class EnvdSdkTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "envd-token-for-the-test";
  @TempDir static Path tmp;
  static PythonRuntime py;
  static Path tree;
  static Server server;
  static String url;

  @BeforeAll
  static void start() throws Exception {
    Path modules = SpindleCache.root().resolve("guests/npm/node_modules");
    Requirements.require(
        Tool.E2B_SDK,
        Files.exists(modules.resolve("e2b/package.json")),
        "E2B's SDK is not in " + modules + " (run scripts/npm-guests)");
    py =
        PythonRuntime.start(
            PythonRuntime.sandbox(tmp.resolve("guest")).timeout(Duration.ofSeconds(60)).build());
    try (var dirs = Files.list(tmp.resolve("guest"))) {
      tree = dirs.findFirst().orElseThrow();
    }
    EnvdTest.TestGuest guest = new EnvdTest.TestGuest("sb-envd", tree, "/guest", py);
    Envd envd = new Envd();
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
            String path = request.getHttpURI().getPath();
            if (path.startsWith("/e2b/sandbox/")) {
              if (!"sb-envd".equals(request.getHeaders().get("E2b-Sandbox-Id"))
                  || !"49983".equals(request.getHeaders().get("E2b-Sandbox-Port"))) {
                return answer(
                    response,
                    callback,
                    502,
                    "{\"code\":502,\"message\":\"no such sandbox or port\"}");
              }
              if (!TOKEN.equals(request.getHeaders().get("X-Access-Token"))) {
                return answer(
                    response, callback, 401, "{\"code\":401,\"message\":\"wrong access token\"}");
              }
              return envd.serve(request, response, callback, guest, guest);
            }
            if (path.equals("/e2b/v2/sandboxes/sb-envd/connect")
                && request.getMethod().equals("POST")) {
              return answer(
                  response,
                  callback,
                  201,
                  "{\"sandboxID\":\"sb-envd\",\"templateID\":\"code-interpreter-v1\","
                      + "\"clientID\":\"spindle\",\"envdVersion\":\"0.5.7\",\"envdAccessToken\":\""
                      + TOKEN
                      + "\"}");
            }
            return answer(
                response, callback, 404, "{\"code\":404,\"message\":\"not in this stub\"}");
          }
        });
    server.start();
    url = "http://127.0.0.1:" + c.getLocalPort();
  }

  private static boolean answer(Response response, Callback callback, int status, String json) {
    response.setStatus(status);
    response.getHeaders().put("Content-Type", "application/json");
    response.write(true, ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)), callback);
    return true;
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

  @Test
  void filesAndCommandsThroughTheOfficialSdk() throws Exception {
    Path script = Path.of(EnvdSdkTest.class.getResource("/e2b/envd.cjs").toURI());
    ProcessBuilder pb = new ProcessBuilder("node", script.toString()).redirectErrorStream(true);
    pb.environment()
        .put("NODE_PATH", SpindleCache.root().resolve("guests/npm/node_modules").toString());
    pb.environment().put("E2B_API_URL", url + "/e2b");
    pb.environment().put("E2B_SANDBOX_URL", url + "/e2b/sandbox");
    pb.environment().put("E2B_API_KEY", "stub-key");
    pb.environment().put("SANDBOX_ID", "sb-envd");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
    String line = out.lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElse(null);
    assertThat(line).as("the scenario's output:\n%s", out).isNotNull();
    JsonNode r = JSON.readTree(line.substring("RESULT ".length()));

    assertThat(r.get("write").toString())
        .isEqualTo("{\"path\":\"/guest/sdk/hello.txt\",\"name\":\"hello.txt\",\"type\":\"file\"}");
    assertThat(r.get("read").asText()).isEqualTo("hello from node");
    assertThat(r.get("bytes").asInt()).isEqualTo(15);
    assertThat(r.get("empty").asText()).isEmpty();
    assertThat(r.get("many").toString())
        .isEqualTo("[\"/guest/sdk/m/1.txt\",\"/guest/sdk/m/2.txt\"]");
    assertThat(Files.readString(tree.resolve("sdk/m/2.txt"))).isEqualTo("two");
    assertThat(r.get("list").toString())
        .isEqualTo("[[\"empty.txt\",\"file\"],[\"hello.txt\",\"file\"],[\"m\",\"dir\"]]");
    assertThat(r.get("deep").toString())
        .isEqualTo(
            "[\"/guest/sdk/empty.txt\",\"/guest/sdk/hello.txt\",\"/guest/sdk/m\","
                + "\"/guest/sdk/m/1.txt\",\"/guest/sdk/m/2.txt\"]");
    assertThat(r.get("makeDir").asBoolean()).isTrue();
    assertThat(r.get("makeDirAgain").asBoolean()).as("false when it exists").isFalse();
    assertThat(r.get("rename").asText()).isEqualTo("/guest/sdk/d/renamed.txt");
    assertThat(r.get("existsOld").asBoolean()).isFalse();
    assertThat(r.get("existsNew").asBoolean()).isTrue();
    assertThat(r.get("info").toString())
        .isEqualTo(
            "{\"name\":\"renamed.txt\",\"type\":\"file\",\"path\":"
                + "\"/guest/sdk/d/renamed.txt\",\"size\":15,\"permissions\":\"-rw-r--r--\",\"modifiedIsDate\":true}");
    assertThat(r.get("readMissing").get("isFileNotFound").asBoolean())
        .as("%s", r.get("readMissing"))
        .isTrue();
    assertThat(r.get("infoMissing").get("isFileNotFound").asBoolean()).isTrue();
    assertThat(r.get("outside").get("isInvalid").asBoolean()).as("%s", r.get("outside")).isTrue();
    assertThat(r.get("existsRemoved").asBoolean()).isFalse();
    assertThat(Files.exists(tree.resolve("sdk/d"))).isFalse();

    assertThat(r.get("python").toString())
        .isEqualTo("{\"stdout\":\"one!\\n\",\"stderr\":\"\",\"exitCode\":0}");
    assertThat(r.get("echo").get("stdout").asText()).isEqualTo("streamed out\n");
    assertThat(r.get("echo").get("chunks").toString()).isEqualTo("[\"streamed out\\n\"]");
    assertThat(r.get("exit").get("cls").asText()).isEqualTo("CommandExitError");
    assertThat(r.get("exit").get("exitCode").asInt()).isEqualTo(4);
    assertThat(r.get("unknown").get("exitCode").asInt()).isEqualTo(127);
    assertThat(r.get("unknown").get("stderr").asText()).contains("npm: command not found");
    assertThat(r.get("pipe").get("exitCode").asInt()).isEqualTo(2);
    assertThat(r.get("pipe").get("stderr").asText()).contains("a pipe");
    assertThat(r.get("ls").asText()).isEqualTo("mkdir\n");
    assertThat(Files.isDirectory(tree.resolve("made/by/mkdir"))).isTrue();
    assertThat(r.get("background").toString())
        .isEqualTo("{\"pid\":\"number\",\"result\":\"42\\n\"}");
    assertThat(r.get("processes").toString()).isEqualTo("[]");
    assertThat(r.get("kill").asBoolean()).as("no such command").isFalse();
    System.out.println("envd through the SDK, median ms of 10: " + r.get("timingMs"));
  }
}
