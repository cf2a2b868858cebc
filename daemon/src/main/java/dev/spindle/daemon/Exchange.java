package dev.spindle.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

/** One request as a route sees it: path parameters, query, the JSON body; and its answer. */
public final class Exchange {
  /** The largest request body read: a base64 module of up to ~48 MiB. */
  public static final long MAX_BODY = 64L << 20;

  /**
   * The slowest average a body may come at, past {@link #BODY_GRACE}: 64 MiB in about 4 minutes.
   */
  static final long MIN_BODY_RATE = 256 << 10;

  /** Time any body has before {@link #MIN_BODY_RATE} counts (a slow start, a small body). */
  static final Duration BODY_GRACE = Duration.ofSeconds(10);

  final Request request;
  final Map<String, String> params;
  private final ObjectMapper json;
  private final Fields query;
  int status = 200;
  String contentType = "application/json";
  byte[] body = new byte[0];

  /** A body too large to hold in memory (an image file), streamed after the headers; or null. */
  InputStream stream;

  long streamLength;
  final Map<String, String> headers = new LinkedHashMap<>();

  public Exchange(Request request, Map<String, String> params, ObjectMapper json) {
    this.request = request;
    this.params = params;
    this.json = json;
    this.query = Request.extractQueryParameters(request);
  }

  String param(String name) {
    return params.get(name);
  }

  /** A boolean query flag: absent is false; anything but true/false is a 400 naming it. */
  boolean flag(String name) {
    String v = query.getValue(name);
    if (v == null) {
      return false;
    }
    return switch (v) {
      case "true", "1", "" -> true;
      case "false", "0" -> false;
      default ->
          throw ApiError.badRequest(
              "bad_query", "query parameter '" + name + "' must be true or false, got '" + v + "'");
    };
  }

  /** Whether the body is declared raw bytes ({@code application/octet-stream}) rather than JSON. */
  boolean isOctets() {
    String type = request.getHeaders().get(org.eclipse.jetty.http.HttpHeader.CONTENT_TYPE);
    return type != null
        && type.toLowerCase(java.util.Locale.ROOT).startsWith("application/octet-stream");
  }

  /** The body as bytes, at most {@code max} of them (413 beyond). */
  public byte[] bytes(long max) throws IOException {
    return read(max, "");
  }

  /**
   * Reads the body, refusing it (413) past {@code max} bytes. A declared Content-Length over the
   * cap is refused before a byte is read; a chunked body declares none, so the cap is also counted
   * while reading: at most {@code max + 1} bytes are taken, the one over telling a body that is too
   * large from one that is exactly the cap.
   *
   * <p>A slow body must not hold a request thread (and a slot of the concurrency cap) for long.
   * Each blocking read is bounded by the connector's idle timeout ({@code --idle-timeout}): Jetty
   * fails the pending read, answered here with a 408. That alone would let a client trickle a byte
   * per timeout for ever, so the body must also come at an average of {@link #MIN_BODY_RATE} after
   * a grace of {@link #BODY_GRACE}.
   */
  private byte[] read(long max, String hint) throws IOException {
    long declared = request.getLength();
    if (declared > max) {
      throw new ApiError(
          413, "too_large", "the body has " + declared + " bytes; the most is " + max + hint);
    }
    int cap = Math.toIntExact(max + 1);
    // Sized to the declared length (+1 to see its end) when there is one; grown by doubling, never
    // past cap.
    byte[] buf = new byte[(int) Math.min(cap, declared >= 0 ? declared + 1 : 1 << 16)];
    int n = 0;
    long t0 = System.nanoTime();
    try (InputStream in = Content.Source.asInputStream(request)) {
      while (n < cap) {
        if (n == buf.length) {
          buf = Arrays.copyOf(buf, (int) Math.min(cap, 2L * n));
        }
        int r;
        try {
          r = in.read(buf, n, buf.length - n);
        } catch (IOException e) {
          throw stalled(e);
        }
        if (r < 0) {
          break;
        }
        n += r;
        long allowed = BODY_GRACE.toNanos() + n * 1_000_000_000L / MIN_BODY_RATE;
        if (System.nanoTime() - t0 > allowed) {
          throw new ApiError(
              408,
              "body_too_slow",
              "the body came at under "
                  + (MIN_BODY_RATE >> 10)
                  + " KiB/s ("
                  + n
                  + " bytes in "
                  + (System.nanoTime() - t0) / 1_000_000
                  + " ms)");
        }
      }
    }
    if (n > max) {
      throw new ApiError(413, "too_large", "the body has more than " + max + " bytes" + hint);
    }
    return n == buf.length ? buf : Arrays.copyOf(buf, n);
  }

  /**
   * A read that Jetty's idle timeout ended is the client's silence (408); other failures stay as
   * they are.
   */
  private static IOException stalled(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.util.concurrent.TimeoutException) {
        throw new ApiError(
            408,
            "body_timeout",
            "the body stopped arriving: nothing came for the node's idle timeout");
      }
    }
    return e;
  }

  /** A query parameter's value, or null. */
  String query(String name) {
    return query.getValue(name);
  }

  /**
   * Reads the body as {@code type}; malformed JSON and unknown fields become 400s in {@link
   * Errors}.
   */
  <T> T body(Class<T> type) throws IOException {
    byte[] bytes =
        read(MAX_BODY, " (send a large module as a file on the node or inside an image)");
    // The body is read as JSON whatever Content-Type says (curl -d sends a form type).
    String text = new String(bytes, StandardCharsets.UTF_8);
    if (text == null || text.isBlank()) {
      throw ApiError.badRequest(
          "bad_json", "the request needs a JSON body (" + type.getSimpleName() + ")");
    }
    T value = json.readValue(text, type);
    if (value == null) {
      throw ApiError.badRequest("bad_json", "the body must be a JSON object, not null");
    }
    return value;
  }

  void json(int status, Object value) throws IOException {
    this.status = status;
    this.contentType = "application/json";
    this.body = json.writeValueAsBytes(value);
  }

  void json(Object value) throws IOException {
    json(200, value);
  }

  void text(String contentType, byte[] bytes) {
    this.contentType = contentType;
    this.body = bytes;
  }

  /** Answers {@code length} bytes read from {@code in}, which the handler closes once written. */
  void stream(int status, String contentType, InputStream in, long length) {
    this.status = status;
    this.contentType = contentType;
    this.stream = in;
    this.streamLength = length;
  }

  void noContent() {
    this.status = 204;
    this.body = new byte[0];
  }
}
