package dev.spindle.daemon.e2b;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.daemon.Exchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The Connect protocol as the E2B SDK speaks it to envd ({@code createConnectTransport} with {@code
 * useBinaryFormat: false}): a unary call is a POST of {@code application/json} answered by the
 * message as JSON, or on failure by a non-200 status and {@code {"code", "message"}}; a
 * server-streaming call is a POST of {@code application/connect+json} whose body is one envelope (a
 * flags byte, a 4-byte big-endian length, the JSON) and whose answer is always 200: envelopes, then
 * an end envelope (flags 2) carrying {@code {}} or {@code {"error": {...}}}. Messages use
 * protobuf's JSON mapping (camelCase names, int64 as strings, bytes as base64, enums by name).
 */
final class EnvdConnect {
  /** The largest request an RPC takes (paths, a command line, a chunk of stdin). */
  static final long MAX_REQUEST = 4L << 20;

  static final String UNARY_TYPE = "application/json";
  static final String STREAM_TYPE = "application/connect+json";
  private static final int END_STREAM = 0x02;
  private static final int COMPRESSED = 0x01;

  private final ObjectMapper json;

  EnvdConnect(ObjectMapper json) {
    this.json = json;
  }

  ObjectMapper json() {
    return json;
  }

  ObjectNode object() {
    return json.createObjectNode();
  }

  /**
   * The request message of a unary ({@code stream} false) or server-streaming call. The body is
   * read (bounded) before it is judged, so that a refused call leaves the connection clean for the
   * client's next request.
   */
  JsonNode read(Request request, boolean stream) throws IOException {
    byte[] body = new Exchange(request, Map.of(), json).bytes(MAX_REQUEST);
    String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    String base = type == null ? "" : type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    String want = stream ? STREAM_TYPE : UNARY_TYPE;
    if (!base.equals(want)) {
      throw new EnvdError(
          EnvdError.Code.UNIMPLEMENTED,
          415,
          "this envd speaks Connect with JSON: the call needs "
              + "Content-Type "
              + want
              + (base.contains("proto") ? " (binary protobuf is not supported)" : ""));
    }
    String encoding =
        request.getHeaders().get(stream ? "Connect-Content-Encoding" : "Content-Encoding");
    if (encoding != null && !encoding.equalsIgnoreCase("identity")) {
      throw EnvdError.unimplemented(
          "compressed requests are not supported; send them uncompressed");
    }
    if (stream) {
      if (body.length < 5) {
        throw EnvdError.invalid(
            "a streaming call's body must be one envelope (5-byte prefix, then JSON)");
      }
      int flags = body[0] & 0xff;
      long length =
          ((body[1] & 0xffL) << 24)
              | ((body[2] & 0xff) << 16)
              | ((body[3] & 0xff) << 8)
              | (body[4] & 0xff);
      if ((flags & COMPRESSED) != 0) {
        throw EnvdError.unimplemented(
            "compressed messages are not supported; send them uncompressed");
      }
      if (length != body.length - 5) {
        throw EnvdError.invalid(
            "the envelope declares " + length + " bytes but " + (body.length - 5) + " follow");
      }
      return parse(new String(body, 5, body.length - 5, java.nio.charset.StandardCharsets.UTF_8));
    }
    return parse(new String(body, java.nio.charset.StandardCharsets.UTF_8));
  }

  private JsonNode parse(String text) {
    if (text.isBlank()) {
      return object();
    }
    JsonNode n;
    try {
      n = json.readTree(text);
    } catch (IOException e) {
      throw EnvdError.invalid("the request is not valid JSON");
    }
    if (n == null || !n.isObject()) {
      throw EnvdError.invalid("the request must be a JSON object");
    }
    return n;
  }

  /** Answers a unary call. */
  void unary(Response response, Callback callback, JsonNode message) throws IOException {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, UNARY_TYPE);
    response.write(true, ByteBuffer.wrap(json.writeValueAsBytes(message)), callback);
  }

  /**
   * Answers a unary call with an error: its status (Connect's for the code, unless the failure has
   * a more precise one: 415 for a wrong content type) and Connect's error JSON, which the client
   * reads the code from.
   */
  void unaryError(Response response, Callback callback, EnvdError e) throws IOException {
    closeIfUnread(response, e);
    response.setStatus(e.http);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, UNARY_TYPE);
    response.write(true, ByteBuffer.wrap(json.writeValueAsBytes(error(e))), callback);
  }

  /**
   * A body refused unread (declared too large, too slow) is still on the connection: the answer
   * says the connection closes, so the client does not send its next request after it.
   */
  static void closeIfUnread(Response response, EnvdError e) {
    if (e.http == 413 || e.http == 408) {
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
    }
  }

  ObjectNode error(EnvdError e) {
    ObjectNode n = object();
    n.put("code", e.code.wire);
    n.put("message", e.getMessage());
    return n;
  }

  /** Starts a server-streaming answer: 200 and the stream's content type; messages follow. */
  Stream stream(Response response) {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, STREAM_TYPE);
    return new Stream(Content.Sink.asOutputStream(response));
  }

  /** The messages of one streaming answer, each flushed as it is written, then the end message. */
  final class Stream implements AutoCloseable {
    private final OutputStream out;
    private boolean ended;

    private Stream(OutputStream out) {
      this.out = out;
    }

    void send(JsonNode message) throws IOException {
      envelope(0, json.writeValueAsBytes(message));
    }

    /** Ends the stream: cleanly when {@code error} is null, else with the error. */
    void end(EnvdError error) throws IOException {
      if (ended) {
        return;
      }
      ended = true;
      ObjectNode end = object();
      if (error != null) {
        end.set("error", error(error));
      }
      envelope(END_STREAM, json.writeValueAsBytes(end));
    }

    private void envelope(int flags, byte[] body) throws IOException {
      byte[] head = {
        (byte) flags,
        (byte) (body.length >>> 24),
        (byte) (body.length >>> 16),
        (byte) (body.length >>> 8),
        (byte) body.length
      };
      out.write(head);
      out.write(body);
      out.flush();
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }
}
