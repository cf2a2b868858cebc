package dev.spindle.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A blocking HTTP/1.1 client on one keep-alive socket, for measuring what the node's server costs
 * per request apart from {@code java.net.http.HttpClient}'s own hand-offs between its caller, its
 * selector thread and its executor. It sends one POST and reads one response with a {@code
 * Content-Length} body at a time; anything else (chunked bodies, a closed connection) is an error,
 * since the node answers every call route with a length.
 */
final class KeepAliveHttp implements AutoCloseable {
  private static final int MAX_HEAD = 16 << 10;
  private static final int MAX_BODY = 1 << 20;

  private final Socket socket;
  private final OutputStream out;
  private final InputStream in;
  private final String host;
  private final String token;

  KeepAliveHttp(String url, String token) throws IOException {
    URI u = URI.create(url);
    socket = new Socket(u.getHost(), u.getPort());
    socket.setTcpNoDelay(true);
    out = socket.getOutputStream();
    in = new BufferedInputStream(socket.getInputStream(), 8192);
    host = u.getHost() + ":" + u.getPort();
    this.token = token;
  }

  /**
   * POSTs {@code json} to {@code path}; the response body, or an exception for a status other than
   * 200.
   */
  byte[] post(String path, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    String head =
        "POST "
            + path
            + " HTTP/1.1\r\nHost: "
            + host
            + "\r\nAuthorization: Bearer "
            + token
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    byte[] request = new byte[h.length + body.length];
    System.arraycopy(h, 0, request, 0, h.length);
    System.arraycopy(body, 0, request, h.length, body.length);
    out.write(request);
    out.flush();
    return readResponse();
  }

  private byte[] readResponse() throws IOException {
    StringBuilder headText = new StringBuilder();
    int state = 0; // how much of "\r\n\r\n" was just read
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException(
            "the node closed the connection after " + headText.length() + " bytes of head");
      }
      if (headText.length() >= MAX_HEAD) {
        throw new IOException("response head longer than " + MAX_HEAD + " bytes");
      }
      headText.append((char) b);
      state =
          (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
              ? state + 1
              : (b == '\r' ? 1 : 0);
    }
    String[] lines = headText.toString().split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    int length = -1;
    for (String line : lines) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Content-Length")) {
        length = Integer.parseInt(line.substring(colon + 1).trim());
      }
    }
    if (length < 0 || length > MAX_BODY) {
      throw new IOException(
          "response without a Content-Length within 0.." + MAX_BODY + ": " + lines[0]);
    }
    byte[] body = in.readNBytes(length);
    if (body.length != length) {
      throw new IOException(
          "response body ended after " + body.length + " of " + length + " bytes");
    }
    if (status != 200) {
      throw new IOException("status " + status + ": " + new String(body, StandardCharsets.UTF_8));
    }
    return body;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
