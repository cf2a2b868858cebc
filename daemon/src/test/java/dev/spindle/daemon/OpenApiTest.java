package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OpenAPI document and the server's routes describe the same API, both ways. */
class OpenApiTest {
  private static final Set<String> METHODS = Set.of("get", "post", "put", "delete", "patch");

  @TempDir Path tmp;

  static Set<String> documented(JsonNode doc) {
    Set<String> routes = new TreeSet<>();
    doc.get("paths")
        .properties()
        .forEach(
            p ->
                p.getValue()
                    .properties()
                    .forEach(
                        op -> {
                          if (METHODS.contains(op.getKey())) {
                            routes.add(op.getKey().toUpperCase(Locale.ROOT) + " " + p.getKey());
                          }
                        }));
    return routes;
  }

  @Test
  void everyDocumentedRouteIsServedAndEveryServedRouteIsDocumented() throws Exception {
    try (DaemonProcess node = DaemonProcess.start(tmp.resolve("home"))) {
      RawHttp.Answer served =
          RawHttp.send("GET", node.url + "/v1/openapi.json", node.token(), null);
      assertThat(served.status()).isEqualTo(200);
      JsonNode doc = new ObjectMapper().readTree(served.body());
      assertThat(doc.get("openapi").asText()).startsWith("3.");
      Set<String> documented = documented(doc);

      Set<String> routes = new TreeSet<>();
      Daemon.routes(null, null, null, new Metrics())
          .routes()
          .forEach(r -> routes.add(r.method() + " " + r.template()));
      assertThat(routes).isEqualTo(documented);

      // And over HTTP: each documented route reaches a handler (whatever it then answers).
      for (String r : documented) {
        String[] mp = r.split(" ", 2);
        String path = mp[1].replaceAll("\\{[^}]+}", "x");
        RawHttp.Answer a =
            RawHttp.send(mp[0], node.url + path, node.token(), mp[0].equals("POST") ? "{}" : null);
        assertThat(a.status()).as(r).isNotEqualTo(405);
        if (a.status() == 404) {
          assertThat(a.code()).as(r).isEqualTo("not_found");
        }
      }
      assertThat(RawHttp.send("GET", node.url + "/v1/nowhere", node.token(), null).code())
          .isEqualTo("no_route");
    }
  }
}
