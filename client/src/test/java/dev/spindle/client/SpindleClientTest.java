package dev.spindle.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK against a scripted HTTP server (the daemon's own tests drive it against a real node):
 * what it sends, and how it reads answers that are not the node's.
 */
class SpindleClientTest {
  @TempDir Path tmp;

  private static HttpServer serve(
      int status, String contentType, String body, AtomicReference<String> seen)
      throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    s.createContext(
        "/",
        x -> {
          seen.set(
              x.getRequestMethod()
                  + " "
                  + x.getRequestURI()
                  + " "
                  + x.getRequestHeaders().getFirst("Authorization")
                  + " "
                  + new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          byte[] b = body.getBytes(StandardCharsets.UTF_8);
          x.getResponseHeaders().add("Content-Type", contentType);
          x.sendResponseHeaders(status, b.length);
          x.getResponseBody().write(b);
          x.close();
        });
    s.start();
    return s;
  }

  @Test
  void sendsSnakeCaseWithTheBearerTokenAndEscapesPathSegments() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    HttpServer s =
        serve(
            202,
            "application/json",
            "{\"tag\":\"a\",\"kind\":\"image\",\"status\":\"writing\"}",
            seen);
    try {
      SpindleClient c =
          SpindleClient.connect("http://127.0.0.1:" + s.getAddress().getPort() + "/", "tok");
      Api.ImageInfo i = c.makeImage(new Api.MakeImage("/src", "a", null, false));
      assertThat(i.status()).isEqualTo("writing");
      assertThat(seen.get())
          .isEqualTo(
              "POST /v1/images Bearer tok {\"source\":\"/src\",\"tag\":\"a\",\"wait\":false}");
      assertThat(c.image("a b/c").tag()).isEqualTo("a");
      assertThat(seen.get()).startsWith("GET /v1/images/a%20b%2Fc ");
    } finally {
      s.stop(0);
    }
  }

  @Test
  void anAnswerThatIsNotTheNodesErrorKeepsItsBody() throws Exception {
    HttpServer s = serve(502, "text/plain", "bad gateway", new AtomicReference<>());
    try {
      SpindleClient c = SpindleClient.connect("http://127.0.0.1:" + s.getAddress().getPort(), "t");
      assertThatThrownBy(c::images)
          .isInstanceOfSatisfying(
              ApiException.class,
              e -> {
                assertThat(e.status()).isEqualTo(502);
                assertThat(e.code()).isEqualTo("http_502");
                assertThat(e.getMessage()).isEqualTo("bad gateway");
              });
    } finally {
      s.stop(0);
    }
    SpindleClient gone = SpindleClient.connect("http://127.0.0.1:9", "t");
    assertThat(gone.healthy()).isFalse();
    assertThatThrownBy(gone::images)
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("127.0.0.1:9");
  }

  @Test
  void theDefaultTokenIsTheHomesFileAndItsAbsenceSaysWhatToDo() throws Exception {
    if (System.getenv("SPINDLE_TOKEN") != null) {
      return; // the environment wins; nothing of the file logic to see
    }
    assertThatThrownBy(() -> SpindleClient.defaultToken(tmp))
        .hasMessageContaining("--token")
        .hasMessageContaining("daemon.token");
    Files.writeString(tmp.resolve(Api.TOKEN_FILE), "abc\n");
    assertThat(SpindleClient.defaultToken(tmp)).isEqualTo("abc");
  }
}
