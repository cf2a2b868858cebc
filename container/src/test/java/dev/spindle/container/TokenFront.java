package dev.spindle.container;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.spindle.testing.TestRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Token authentication as Docker Hub, GHCR or Harbor do it, in front of a {@link TestRegistry}
 * (whose own auth is Basic): {@code /v2/} answers 401 with a Bearer challenge naming this server's
 * {@code /token} realm, which gives a token for the test credentials; requests bearing it are
 * passed to the registry. It records the scopes asked for.
 */
final class TokenFront implements AutoCloseable {
  private static final String TOKEN = "tok-" + Long.toHexString(System.nanoTime());
  private final HttpServer server;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final TestRegistry registry;
  final List<String> scopes = new CopyOnWriteArrayList<>();

  TokenFront(TestRegistry registry) throws IOException {
    this.registry = registry;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/token", this::token);
    server.createContext("/v2/", this::v2);
    server.start();
  }

  String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  private void token(HttpExchange x) throws IOException {
    String q = x.getRequestURI().getQuery();
    for (String p : q == null ? new String[0] : q.split("&")) {
      if (p.startsWith("scope=")) {
        scopes.add(java.net.URLDecoder.decode(p.substring(6), StandardCharsets.UTF_8));
      }
    }
    String basic =
        "Basic "
            + Base64.getEncoder()
                .encodeToString(
                    (TestRegistry.USER + ":" + TestRegistry.PASSWORD)
                        .getBytes(StandardCharsets.UTF_8));
    if (!basic.equals(x.getRequestHeaders().getFirst("Authorization"))) {
      send(x, 401, "{\"details\":\"bad credentials\"}".getBytes(StandardCharsets.UTF_8));
      return;
    }
    send(
        x,
        200,
        ("{\"token\":\"" + TOKEN + "\",\"expires_in\":300}").getBytes(StandardCharsets.UTF_8));
  }

  private void v2(HttpExchange x) throws IOException {
    if (!("Bearer " + TOKEN).equals(x.getRequestHeaders().getFirst("Authorization"))) {
      x.getResponseHeaders()
          .add(
              "WWW-Authenticate",
              "Bearer realm=\"http://"
                  + host()
                  + "/token\",service=\"test-registry\",scope=\"repository:whatever:pull\"");
      send(x, 401, new byte[0]);
      return;
    }
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://" + registry.host() + x.getRequestURI()))
            .method(x.getRequestMethod(), HttpRequest.BodyPublishers.noBody())
            .header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString(
                            (TestRegistry.USER + ":" + TestRegistry.PASSWORD)
                                .getBytes(StandardCharsets.UTF_8)));
    for (String h : List.of("Accept", "Range")) {
      List<String> v = x.getRequestHeaders().get(h);
      if (v != null) {
        v.forEach(value -> b.header(h, value));
      }
    }
    HttpResponse<InputStream> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    for (String h : List.of("Content-Type", "Docker-Content-Digest", "Content-Range", "Location")) {
      r.headers().firstValue(h).ifPresent(v -> x.getResponseHeaders().add(h, v));
    }
    try (InputStream in = r.body()) {
      send(x, r.statusCode(), in.readAllBytes());
    }
  }

  private static void send(HttpExchange x, int status, byte[] body) throws IOException {
    boolean head = x.getRequestMethod().equals("HEAD");
    x.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
    try (OutputStream out = x.getResponseBody()) {
      if (!head) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    http.close();
  }
}
