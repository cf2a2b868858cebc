package dev.spindle.daemon;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Routes by method and path template ({@code /v1/images/{tag}}). The table is plain data so the
 * OpenAPI test can compare it with {@code openapi.json} both ways.
 */
public final class Router {
  /** A route's work; may throw {@link ApiError} or any exception {@link Errors} maps. */
  @FunctionalInterface
  interface Handler {
    void handle(Exchange x) throws Exception;
  }

  /**
   * One route. {@code open} routes need no token ({@code /healthz}) and {@code uncapped} ones
   * bypass the concurrency cap (health, metrics), so a saturated node can still be watched.
   */
  public record Route(
      String method, String template, boolean open, boolean uncapped, Handler handler) {
    String[] segments() {
      return template.substring(1).split("/", -1);
    }
  }

  /** A route and the path parameters it matched. */
  public record Match(Route route, Map<String, String> params) {}

  private final List<Route> routes = new ArrayList<>();

  public void add(String method, String template, Handler h) {
    routes.add(new Route(method, template, false, false, h));
  }

  void addOpen(String method, String template, Handler h) {
    routes.add(new Route(method, template, true, true, h));
  }

  void addUncapped(String method, String template, Handler h) {
    routes.add(new Route(method, template, false, true, h));
  }

  List<Route> routes() {
    return List.copyOf(routes);
  }

  /**
   * The route for a method and decoded path: a 404 {@code no_route} when no template matches the
   * path, a 405 when one does but not for this method.
   */
  public Match match(String method, String path) {
    String[] parts = path.length() <= 1 ? new String[] {""} : path.substring(1).split("/", -1);
    boolean pathMatched = false;
    for (Route r : routes) {
      Map<String, String> params = bind(r.segments(), parts);
      if (params != null) {
        if (r.method().equals(method)) {
          return new Match(r, params);
        }
        pathMatched = true;
      }
    }
    if (pathMatched) {
      throw new ApiError(405, "method_not_allowed", method + " is not allowed on " + path);
    }
    throw new ApiError(
        404, "no_route", "no such endpoint: " + method + " " + path + " (see /v1/openapi.json)");
  }

  private static Map<String, String> bind(String[] template, String[] parts) {
    if (template.length != parts.length) {
      return null;
    }
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 0; i < template.length; i++) {
      String t = template[i];
      if (t.startsWith("{") && t.endsWith("}")) {
        if (parts[i].isEmpty()) {
          return null;
        }
        params.put(t.substring(1, t.length() - 1), parts[i]);
      } else if (!t.equals(parts[i])) {
        return null;
      }
    }
    return params;
  }
}
