package dev.spindle.daemon;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.SpindleClient;
import dev.spindle.store.SpindleHome;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Requests are outside bytes. Whatever a client sends to the node's routes (bodies, path
 * parameters, a Range header), the answer is a 2xx, or a 4xx with a JSON error naming what was
 * wrong, also when Jetty refuses it before the API sees it; never a 500, which would mean the node
 * failed on its own. One in-process node, with one image and one live sandbox so that requests
 * reach past the lookups. Left out: routes that act on the node's own files by request (POST
 * /v1/images and POST /v1/sandboxes take node paths) and deletes. CI replays the seeds beside this
 * class; {@code JAZZER_FUZZ=1 mvn -pl daemon test -Dtest=DaemonRequestFuzzTest} fuzzes.
 */
class DaemonRequestFuzzTest {
  /**
   * Method and path; {ID} becomes the live sandbox or a fuzzed id, {TAG} the image or a fuzzed tag.
   */
  private static final List<String[]> ROUTES =
      List.of(
          new String[] {"POST", "/v1/sandboxes/{ID}/call"},
          new String[] {"POST", "/v1/sandboxes/{ID}/snapshot"},
          new String[] {"POST", "/v1/sandboxes/{ID}/fork"},
          new String[] {"POST", "/v1/resume"},
          new String[] {"POST", "/v1/images/{TAG}/compact"},
          new String[] {"GET", "/v1/images/{TAG}/file?path="},
          new String[] {"GET", "/v1/images/{TAG}/objects/{ID}"},
          new String[] {"GET", "/v1/sandboxes/{ID}/output?since="},
          new String[] {"GET", "/v1/sandboxes?limit="});

  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final Node NODE = Node.start();

  private record Node(Daemon daemon, String url, String token, String sandbox) {
    static Node start() {
      try {
        Path tmp = Files.createTempDirectory("spindle-request-fuzz");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.write(src.resolve("guest.wasm"), SampleGuest.wasm());
        Files.writeString(src.resolve("a.txt"), "hello");
        DaemonConfig config =
            DaemonConfig.defaults(new SpindleHome(tmp.resolve("home"))).listen("127.0.0.1:0");
        // The fuzzer is the operator here: src is the one directory clients may name.
        Daemon d =
            Daemon.start(config, new AccessOptions(java.util.List.of(), java.util.List.of(src)));
        SpindleClient c = SpindleClient.connect(d.url(), d.token());
        c.makeImage(new MakeImage(src.toString(), "base"));
        String id =
            c.createSandboxes(new CreateSandboxes(Wasm.inImage("base", "guest.wasm")))
                .getFirst()
                .id();
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      try {
                        d.close();
                        try (var walk = Files.walk(tmp)) {
                          walk.sorted(java.util.Comparator.reverseOrder())
                              .forEach(p -> p.toFile().delete());
                        }
                      } catch (Exception e) {
                        // the JVM is exiting
                      }
                    }));
        return new Node(d, d.url().toString().replaceAll("/$", ""), d.token(), id);
      } catch (Exception e) {
        throw new ExceptionInInitializerError(e);
      }
    }
  }

  @FuzzTest(maxDuration = "60s")
  void badRequestsAreAnsweredWithAClientError(FuzzedDataProvider data) throws Exception {
    String[] route = ROUTES.get(data.consumeInt(0, ROUTES.size() - 1));
    String id = data.consumeBoolean() ? NODE.sandbox() : data.consumeString(24);
    String tag = data.consumeBoolean() ? "base" : data.consumeString(24);
    String query = data.consumeString(32);
    String range = data.consumeBoolean() ? data.consumeString(32) : null;
    byte[] body = data.consumeRemainingAsBytes();
    String path = route[1].replace("{ID}", enc(id)).replace("{TAG}", enc(tag));
    if (path.endsWith("=")) {
      path += enc(query);
    }
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(NODE.url() + path))
            .header("Authorization", "Bearer " + NODE.token())
            .method(
                route[0],
                route[0].equals("GET")
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    if (range != null && isHeaderSafe(range)) {
      b.header("Range", range);
    }
    HttpResponse<String> r;
    // Jazzer's SSRF detector reports every connection made while fuzzing. Here they are all
    // expected: this test's own requests to the node, and the node's fork route, which by design
    // connects to whichever node its authenticated caller names.
    try (SilentCloseable expected = BugDetectors.allowNetworkConnections()) {
      r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
    // 502-504 are answers about another node (a fork to an unreachable one), not failures here.
    if (r.statusCode() == 500 || r.statusCode() == 501 || r.statusCode() > 504) {
      throw new AssertionError(
          route[0]
              + " "
              + path
              + " (body "
              + body.length
              + " bytes, Range "
              + range
              + ") answered "
              + r.statusCode()
              + ": "
              + r.body());
    }
    if (r.statusCode() >= 400 && !r.body().contains("\"error\"")) {
      throw new AssertionError(
          route[0]
              + " "
              + path
              + " answered "
              + r.statusCode()
              + " without a JSON error: "
              + r.body());
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static boolean isHeaderSafe(String v) {
    return v.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
  }
}
