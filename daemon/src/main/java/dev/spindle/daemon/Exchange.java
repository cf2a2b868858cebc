package dev.spindle.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

/** One request as a route sees it: path parameters, query, the JSON body; and its answer. */
final class Exchange {
  /** The largest request body read: a base64 module of up to ~48 MiB. */
  static final long MAX_BODY = 64L << 20;

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

  Exchange(Request request, Map<String, String> params, ObjectMapper json) {
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
      default -> throw ApiError.badRequest("bad_query", "query parameter '" + name + "' must be true or false, got '" + v + "'");
    };
  }

  /** Whether the body is declared raw bytes ({@code application/octet-stream}) rather than JSON. */
  boolean isOctets() {
    String type = request.getHeaders().get(org.eclipse.jetty.http.HttpHeader.CONTENT_TYPE);
    return type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("application/octet-stream");
  }

  /** The body as bytes, at most {@code max} of them (413 beyond). */
  byte[] bytes(long max) throws IOException {
    return read(max, "");
  }

  /**
   * Reads the body, refusing it (413) past {@code max} bytes. A declared Content-Length over the
   * cap is refused before a byte is read; a chunked body declares none, so the cap is also counted
   * while reading: at most {@code max + 1} bytes are taken, the one over telling a body that is too
   * large from one that is exactly the cap. Jetty's idle timeout ({@link Daemon#IDLE_TIMEOUT})
   * bounds each blocking read here, so a client that stops sending frees the thread.
   */
  private byte[] read(long max, String hint) throws IOException {
    long declared = request.getLength();
    if (declared > max) {
      throw new ApiError(413, "too_large", "the body has " + declared + " bytes; the most is " + max + hint);
    }
    byte[] out;
    try (InputStream in = Content.Source.asInputStream(request)) {
      out = in.readNBytes(Math.toIntExact(max + 1));
    }
    if (out.length > max) {
      throw new ApiError(413, "too_large", "the body has more than " + max + " bytes" + hint);
    }
    return out;
  }

  /** A query parameter's value, or null. */
  String query(String name) {
    return query.getValue(name);
  }

  /** Reads the body as {@code type}; malformed JSON and unknown fields become 400s in {@link Errors}. */
  <T> T body(Class<T> type) throws IOException {
    byte[] bytes = read(MAX_BODY, " (send a large module as a file on the node or inside an image)");
    // The body is read as JSON whatever Content-Type says (curl -d sends a form type).
    String text = new String(bytes, StandardCharsets.UTF_8);
    if (text == null || text.isBlank()) {
      throw ApiError.badRequest("bad_json", "the request needs a JSON body (" + type.getSimpleName() + ")");
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
