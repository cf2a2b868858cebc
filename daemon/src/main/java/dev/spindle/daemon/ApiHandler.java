package dev.spindle.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.daemon.e2b.E2bHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.Semaphore;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Every request passes here, in this order: route (404/405), token (401, except open routes),
 * concurrency cap (503, except uncapped routes), the route's work, errors mapped to JSON, and a
 * latency observation under the route's template.
 */
public final class ApiHandler extends Handler.Abstract {
  private final Router router;
  private final String token;
  private final Semaphore cap;
  private final int capacity;
  private final Metrics metrics;
  private final ObjectMapper json;

  ApiHandler(Router router, String token, int maxConcurrent, Metrics metrics, ObjectMapper json) {
    this.router = router;
    this.token = token;
    this.capacity = maxConcurrent;
    this.cap = new Semaphore(maxConcurrent);
    this.metrics = metrics;
    this.json = json;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    long t0 = System.nanoTime();
    String method = request.getMethod();
    String routeName = "unmatched";
    Exchange x = new Exchange(request, Map.of(), json);
    boolean held = false;
    try {
      Router.Match m = router.match(method, request.getHttpURI().getDecodedPath());
      routeName = m.route().template();
      x = new Exchange(request, m.params(), json);
      if (!m.route().open()) {
        authorize(request);
      }
      if (!m.route().uncapped()) {
        enter();
        held = true;
      }
      m.route().handler().handle(x);
    } catch (Throwable e) {
      ApiError a =
          Errors.map(
              e instanceof java.util.concurrent.ExecutionException ee && ee.getCause() != null
                  ? ee.getCause()
                  : e);
      if (a.status == 500) {
        System.err.println(
            "spindle daemon: " + method + " " + request.getHttpURI().getPath() + ": " + e);
      }
      x.json(a.status, Errors.body(a));
      if (a.status == 401) {
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"spindle\"");
      }
      if (a.status == 503) {
        response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
      }
    } finally {
      if (held) {
        leave();
      }
    }
    metrics.observe(method, routeName, x.status, System.nanoTime() - t0);
    response.setStatus(x.status);
    if (x.status != 204) {
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, x.contentType);
    }
    x.headers.forEach(response.getHeaders()::put);
    if (x.stream != null && x.status < 300) {
      writeStream(x, response, callback);
    } else {
      closeQuietly(x.stream); // an error after a route set a stream
      response.write(true, ByteBuffer.wrap(x.body), callback);
    }
    return true;
  }

  /**
   * Takes a slot of the node's concurrency cap (503 {@code busy} when none is free), for this
   * handler's routes and for the requests {@link E2bHandler} serves; {@link #leave} gives it back.
   */
  public void enter() {
    if (!cap.tryAcquire()) {
      metrics.rejectedBusy.increment();
      throw new ApiError(
          503,
          "busy",
          "the node is at its concurrency cap (" + capacity + " requests at once); retry later");
    }
    metrics.inFlight.incrementAndGet();
  }

  public void leave() {
    metrics.inFlight.decrementAndGet();
    cap.release();
  }

  private static void closeQuietly(InputStream in) {
    if (in != null) {
      try {
        in.close();
      } catch (IOException e) {
        // nothing was sent from it
      }
    }
  }

  /** Streams a large body (an image file) in chunks instead of holding it in memory. */
  private static void writeStream(Exchange x, Response response, Callback callback) {
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, x.streamLength);
    try (InputStream in = x.stream;
        OutputStream out = Content.Sink.asOutputStream(response)) {
      // Exactly the announced length: a range's stream runs on to the end of the file.
      byte[] buf = new byte[1 << 16];
      for (long left = x.streamLength; left > 0; ) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new java.io.EOFException("the body ended " + left + " bytes early");
        }
        out.write(buf, 0, n);
        left -= n;
      }
    } catch (IOException | RuntimeException e) {
      callback.failed(e);
      return;
    }
    callback.succeeded();
  }

  private void authorize(Request request) {
    String h = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    if (h == null || !h.startsWith("Bearer ")) {
      throw new ApiError(
          401,
          "unauthorized",
          "missing 'Authorization: Bearer TOKEN' (the token is in the node's "
              + "home, file daemon.token)");
    }
    if (!TokenFile.matches(token, h.substring("Bearer ".length()).strip())) {
      throw new ApiError(401, "unauthorized", "wrong token");
    }
  }
}
