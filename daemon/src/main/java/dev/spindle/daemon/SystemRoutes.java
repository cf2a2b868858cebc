package dev.spindle.daemon;

import dev.spindle.client.Api;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The node itself: health, version, metrics, and the API's own description. */
final class SystemRoutes {
  static final String OPENAPI = "openapi.json";
  static final String API_VERSION = "v1";

  private final Metrics metrics;
  private final byte[] openapi;

  SystemRoutes(Metrics metrics) {
    this.metrics = metrics;
    this.openapi = openapi();
  }

  static byte[] openapi() {
    try (InputStream in = SystemRoutes.class.getResourceAsStream(OPENAPI)) {
      if (in == null) {
        throw new IllegalStateException("openapi.json missing from the daemon's resources");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String version() {
    String v = SystemRoutes.class.getPackage().getImplementationVersion();
    return v == null ? "0.1.0-dev" : v;
  }

  void register(Router r) {
    r.addOpen(
        "GET",
        "/healthz",
        x -> x.text("text/plain; charset=utf-8", "ok\n".getBytes(StandardCharsets.UTF_8)));
    r.add(
        "GET",
        "/version",
        x -> x.json(new Api.Version(version(), Runtime.version().toString(), API_VERSION)));
    r.addUncapped(
        "GET",
        "/metrics",
        x ->
            x.text(
                "text/plain; version=0.0.4; charset=utf-8",
                metrics.render().getBytes(StandardCharsets.UTF_8)));
    r.add("GET", "/v1/openapi.json", x -> x.text("application/json", openapi));
  }
}
