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
 * The body cap holds for a chunked body, which declares no length: it is counted as it is read.
 * Raw sockets, so the requests are chunked for certain.
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
      Thread sender = new Thread(() -> {
        byte[] chunk = new byte[1 << 20];
        java.util.Arrays.fill(chunk, (byte) ' ');
        try {
          for (long sent = 0; sent <= Exchange.MAX_BODY; sent += chunk.length) {
            out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(chunk);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
          }
          out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // the node closed the connection after answering
        }
      }, "chunked-sender");
      sender.setDaemon(true);
      sender.start();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 413 Payload Too Large");
      List<String> rest = new ArrayList<>();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        rest.add(line);
        if (line.startsWith("{")) {
          break;
        }
      }
      assertThat(rest.getLast()).contains("\"too_large\"").contains("more than " + Exchange.MAX_BODY + " bytes");
      sender.join(60_000);
    }
    assertThat(node.process.isAlive()).isTrue();
    assertThat(RawHttp.send("GET", node.url + "/healthz", null, null).status()).isEqualTo(200);
    assertThat(node.client().sandboxes()).isEmpty();
  }

  @Test
  void aChunkedBodyUnderTheCapIsRead() throws Exception {
    String json = "{\"wasm\": {\"base64\": \"" + Base64.getEncoder().encodeToString(SampleGuest.wasm()) + "\"}}";
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
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
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

  /** Chunked, no Content-Length; and the connection closes after the answer, which ends its last line. */
  private static String head(String path) {
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
        + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  }

  private static void chunk(OutputStream out, byte[] b, int off, int len) throws IOException {
    out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(b, off, len);
    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
  }
}
