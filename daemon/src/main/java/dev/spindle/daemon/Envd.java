package dev.spindle.daemon;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * E2B's envd (sandbox port 49983: Connect RPC for processes and the file system, {@code /files},
 * {@code /health}) for one sandbox. {@link E2bHandler} has already found the sandbox and checked
 * its access token. A placeholder until envd is written: {@code /health} answers (the SDK's
 * {@code isRunning} asks it), everything else a 501 in E2B's error shape, at once.
 */
final class Envd {
  private Envd() {}

  /** Answers one envd request of {@code guest}; true when answered (always, here). */
  static boolean handle(Request request, Response response, Callback callback, Guest guest) {
    if (E2bHandler.sandboxPath(request).equals("/health")) {
      response.setStatus(204);
      callback.succeeded();
      return true;
    }
    byte[] body = ("{\"code\":501,\"message\":\"envd (files, commands) is not implemented on this Spindle node yet; "
        + "sandbox " + guest.id + " runs code through runCode only\"}").getBytes(StandardCharsets.UTF_8);
    response.setStatus(501);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, ByteBuffer.wrap(body), callback);
    return true;
  }
}
