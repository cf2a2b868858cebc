package dev.spindle.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own refusals, made before a request reaches the API (a path with an empty or ambiguous
 * segment, a control character in the URI, a malformed header), in the API's JSON error shape
 * rather than Jetty's HTML page: a client parses one kind of error whatever refused it.
 */
final class JsonErrorHandler extends ErrorHandler {
  private final ObjectMapper json;

  JsonErrorHandler(ObjectMapper json) {
    this.json = json;
  }

  @Override
  protected void generateResponse(
      Request request,
      Response response,
      int code,
      String message,
      Throwable cause,
      Callback callback)
      throws IOException {
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, ByteBuffer.wrap(body(code, message)), callback);
  }

  private byte[] body(int status, String message) throws IOException {
    String why = message == null || message.isBlank() ? HttpStatus.getMessage(status) : message;
    String code = status == 400 ? "bad_request" : "http_" + status;
    return json.writeValueAsBytes(
        Errors.body(new ApiError(status, code, "the request was refused: " + why)));
  }
}
