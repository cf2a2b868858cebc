package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The body cap holds for a chunked body, which declares no length: it is counted as it is read. Raw
 * sockets, so the requests are chunked for certain.
 */
class BodyLimitTest {
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
  void aChunkedBodyOverTheCapIs413AndTheNodeStaysUp() throws Exception {
    URI u = URI.create(node.url);
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      out.write(head("/v1/sandboxes").getBytes(StandardCharsets.US_ASCII));
      // The node answers once the cap is passed and reads no further, so the sender runs apart and
      // stops at the first refused write (the node closes the connection) or after cap + 1 MiB.
      Thread sender =
          new Thread(
              () -> {
                byte[] chunk = new byte[1 << 20];
                java.util.Arrays.fill(chunk, (byte) ' ');
                try {
                  for (long sent = 0; sent <= Exchange.MAX_BODY; sent += chunk.length) {
                    out.write(
                        (Integer.toHexString(chunk.length) + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                  }
                  out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                  out.flush();
                } catch (IOException e) {
                  // the node closed the connection after answering
                }
              },
              "chunked-sender");
      sender.setDaemon(true);
      sender.start();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 413 Payload Too Large");
      List<String> rest = new ArrayList<>();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        rest.add(line);
        if (line.startsWith("{")) {
          break;
        }
      }
      assertThat(rest.getLast())
          .contains("\"too_large\"")
          .contains("more than " + Exchange.MAX_BODY + " bytes");
      sender.join(60_000);
    }
    assertThat(node.process.isAlive()).isTrue();
    assertThat(RawHttp.send("GET", node.url + "/healthz", null, null).status()).isEqualTo(200);
    assertThat(node.client().sandboxes()).isEmpty();
  }

  @Test
  void aChunkedBodyUnderTheCapIsRead() throws Exception {
    String json =
        "{\"wasm\": {\"base64\": \""
            + Base64.getEncoder().encodeToString(SampleGuest.wasm())
            + "\"}}";
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    URI u = URI.create(node.url);
    String id;
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      out.write(head("/v1/sandboxes").getBytes(StandardCharsets.US_ASCII));
      // Two chunks, split mid-JSON: the body is whole only once both are read.
      int half = body.length / 2;
      chunk(out, body, 0, half);
      chunk(out, body, half, body.length - half);
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 201 Created");
      String line = in.readLine();
      while (!line.contains("\"id\"")) {
        line = in.readLine();
      }
      id = line.replaceAll(".*\"id\":\"(sb-[0-9a-f]+)\".*", "$1");
    }
    assertThat(node.client().call(id, "add", 2, 3)).containsExactly(5L);
    node.client().deleteSandbox(id);
  }

  @Test
  void aStalledOrTrickledBodyIs408WithinBoundsAndTheNodeStaysUp(@TempDir Path home)
      throws Exception {
    try (DaemonProcess slow = DaemonProcess.start(home, "--idle-timeout", "1s")) {
      // A body that stops: the idle timeout fails the blocked read.
      long t0 = System.nanoTime();
      List<String> stalled = slowPost(slow, 0);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(stalled.getFirst()).isEqualTo("HTTP/1.1 408 Request Timeout");
      assertThat(stalled.getLast()).contains("\"body_timeout\"");
      assertThat(ms).as("answered after about the idle timeout").isBetween(900L, 15_000L);

      // A byte every 400 ms never trips the idle timeout, but is far under the rate a body must
      // keep.
      t0 = System.nanoTime();
      List<String> trickled = slowPost(slow, 400);
      ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(trickled.getFirst()).isEqualTo("HTTP/1.1 408 Request Timeout");
      assertThat(trickled.getLast()).contains("\"body_too_slow\"");
      assertThat(ms)
          .isBetween(Exchange.BODY_GRACE.toMillis(), Exchange.BODY_GRACE.toMillis() + 15_000L);

      assertThat(RawHttp.send("GET", slow.url + "/healthz", null, null).status()).isEqualTo(200);
    }
  }

  /**
   * Starts a chunked body, then sends one more byte every {@code everyMs} (0: nothing more) until
   * the node answers; its answer's lines.
   */
  private static List<String> slowPost(DaemonProcess node, long everyMs) throws Exception {
    URI u = URI.create(node.url);
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/sandboxes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + node.token()
                  + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      chunk(out, "{\"args\": [".getBytes(StandardCharsets.US_ASCII), 0, 10);
      out.flush();
      Thread drip =
          new Thread(
              () -> {
                try {
                  while (everyMs > 0) {
                    Thread.sleep(everyMs);
                    chunk(out, " ".getBytes(StandardCharsets.US_ASCII), 0, 1);
                    out.flush();
                  }
                } catch (IOException | InterruptedException e) {
                  // the node answered and closed
                }
              },
              "drip");
      drip.setDaemon(true);
      drip.start();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      List<String> lines = new ArrayList<>();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lines.add(line);
        if (line.startsWith("{")) {
          break;
        }
      }
      drip.interrupt();
      return lines;
    }
  }

  /**
   * Chunked, no Content-Length; and the connection closes after the answer, which ends its last
   * line.
   */
  private static String head(String path) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + token
        + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  }

  private static void chunk(OutputStream out, byte[] b, int off, int len) throws IOException {
    out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(b, off, len);
    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
  }
}
