package dev.spindle.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.client.Api.Call;
import dev.spindle.client.Api.CallResult;
import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.ErrorBody;
import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.ImageList;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.Api.Output;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.SandboxList;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Version;
import dev.spindle.store.LazyTls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A typed client of one Spindle node. Every method is one HTTP call; an error answer becomes an
 * {@link ApiException} carrying the node's status, code and message, and a node that cannot be
 * reached an {@link UncheckedIOException} naming its address. Thread-safe.
 */
public final class SpindleClient {
  private final URI base;
  private final String token;
  private final HttpClient http;
  private final ObjectMapper json = Api.mapper();

  private SpindleClient(URI base, String token) {
    this.base = URI.create(base.toString().replaceAll("/+$", "") + "/");
    this.token = token;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .sslContext(LazyTls.context()) // the trust store is read at the first https call
            .build();
  }

  /**
   * A client of the node at {@code url} (e.g. {@code http://127.0.0.1:8889}) with a bearer token.
   */
  public static SpindleClient connect(String url, String token) {
    return new SpindleClient(URI.create(url), Objects.requireNonNull(token, "token"));
  }

  /**
   * The token to use when none is given: {@code SPINDLE_TOKEN}, else the token file the daemon
   * wrote in the Spindle home {@code home}.
   */
  public static String defaultToken(Path home) throws IOException {
    String env = System.getenv("SPINDLE_TOKEN");
    if (env != null && !env.isBlank()) {
      return env.strip();
    }
    Path file = home.resolve(Api.TOKEN_FILE);
    if (!Files.isRegularFile(file)) {
      throw new IOException(
          "no token: pass --token, set SPINDLE_TOKEN, or run the daemon once with home "
              + home
              + " (it writes "
              + file
              + ")");
    }
    return Files.readString(file).strip();
  }

  public URI base() {
    return base;
  }

  // --- node -------------------------------------------------------------------------------

  /** True when the node answers {@code /healthz} (no token needed). */
  public boolean healthy() {
    try {
      return send("GET", "healthz", null).statusCode() == 200;
    } catch (UncheckedIOException e) {
      return false;
    }
  }

  public Version version() {
    return get("version", Version.class);
  }

  /** The Prometheus text of {@code /metrics}. */
  public String metrics() {
    return check(send("GET", "metrics", null)).body();
  }

  // --- images and snapshots ---------------------------------------------------------------

  public ImageInfo makeImage(MakeImage request) {
    return call("POST", "v1/images", request, ImageInfo.class);
  }

  public List<ImageInfo> images() {
    return get("v1/images", ImageList.class).images();
  }

  public ImageInfo image(String tag) {
    return get("v1/images/" + enc(tag), ImageInfo.class);
  }

  /** Deletes a tag; with {@code cascade} the snapshots made from it go too. */
  public void deleteImage(String tag, boolean cascade) {
    check(send("DELETE", "v1/images/" + enc(tag) + (cascade ? "?cascade=true" : ""), null));
  }

  /** Polls {@link #image} until the tag is no longer {@code writing}, and returns it. */
  public ImageInfo awaitImage(String tag, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      ImageInfo i = image(tag);
      if (!"writing".equals(i.status()) || System.nanoTime() > deadline) {
        return i;
      }
      Thread.sleep(20);
    }
  }

  // --- sandboxes --------------------------------------------------------------------------

  public List<SandboxInfo> createSandboxes(CreateSandboxes request) {
    return call("POST", "v1/sandboxes", request, SandboxList.class).sandboxes();
  }

  public List<SandboxInfo> sandboxes() {
    return get("v1/sandboxes", SandboxList.class).sandboxes();
  }

  public SandboxInfo sandbox(String id) {
    return get("v1/sandboxes/" + enc(id), SandboxInfo.class);
  }

  public void deleteSandbox(String id) {
    check(send("DELETE", "v1/sandboxes/" + enc(id), null));
  }

  public List<Long> call(String id, String export, long... args) {
    List<Long> a = java.util.Arrays.stream(args).boxed().toList();
    return call("POST", "v1/sandboxes/" + enc(id) + "/call", new Call(export, a), CallResult.class)
        .results();
  }

  /**
   * Evaluates Python {@code code} in sandbox {@code id} (one created with runtime {@code python},
   * or a branch of one). A Python exception is in the result; a timeout is an {@link ApiException}
   * ({@code limit_timeout}) and leaves the sandbox dead.
   */
  public Api.EvalResult eval(String id, String code) {
    return call(
        "POST", "v1/sandboxes/" + enc(id) + "/eval", new Api.Eval(code), Api.EvalResult.class);
  }

  public Output output(String id) {
    return get("v1/sandboxes/" + enc(id) + "/output", Output.class);
  }

  public ImageInfo snapshot(String id, Snapshot request) {
    return call("POST", "v1/sandboxes/" + enc(id) + "/snapshot", request, ImageInfo.class);
  }

  /** Flattens a snapshot's chain (cuts its lineage link; its files are already whole). */
  public ImageInfo compact(String tag) {
    return call("POST", "v1/images/" + enc(tag) + "/compact", null, ImageInfo.class);
  }

  /** Forks sandbox {@code id}: to another node, or into a descriptor (see {@link Api.Fork}). */
  public Api.ForkResult fork(String id, Api.Fork request) {
    return call("POST", "v1/sandboxes/" + enc(id) + "/fork", request, Api.ForkResult.class);
  }

  /** Resumes a sandbox on this node from a descriptor's bytes. */
  public SandboxInfo resume(byte[] descriptor) {
    return resume(descriptor, null);
  }

  /**
   * As {@link #resume(byte[])}; {@code replay} false fetches only what the child touches. The
   * descriptor goes as it is ({@code application/octet-stream}), not as base64 in JSON.
   */
  public SandboxInfo resume(byte[] descriptor, Boolean replay) {
    String path = "v1/resume" + (replay == null ? "" : "?replay=" + replay);
    HttpResponse<String> r = check(send("POST", path, new Octets(descriptor)));
    try {
      return json.readValue(r.body(), SandboxInfo.class);
    } catch (JsonProcessingException e) {
      throw new ApiException(
          r.statusCode(),
          "bad_response",
          "POST " + path + ": the node's answer is not a SandboxInfo: " + e.getOriginalMessage());
    }
  }

  /** A request body sent as bytes rather than JSON. */
  private record Octets(byte[] bytes) {}

  public List<Api.DescriptorInfo> descriptors() {
    return get("v1/descriptors", Api.DescriptorList.class).descriptors();
  }

  public void releaseDescriptor(String id) {
    check(send("DELETE", "v1/descriptors/" + enc(id), null));
  }

  // --- plumbing ---------------------------------------------------------------------------

  private <T> T get(String path, Class<T> type) {
    return call("GET", path, null, type);
  }

  private <T> T call(String method, String path, Object body, Class<T> type) {
    HttpResponse<String> r = check(send(method, path, body));
    try {
      return json.readValue(r.body(), type);
    } catch (JsonProcessingException e) {
      throw new ApiException(
          r.statusCode(),
          "bad_response",
          method
              + " "
              + path
              + ": the node's answer is not a "
              + type.getSimpleName()
              + ": "
              + e.getOriginalMessage());
    }
  }

  private HttpResponse<String> check(HttpResponse<String> r) {
    if (r.statusCode() < 300) {
      return r;
    }
    String code = "http_" + r.statusCode();
    String message = r.body();
    try {
      ErrorBody e = json.readValue(r.body(), ErrorBody.class);
      if (e.error() != null) {
        code = e.error().code();
        message = e.error().message();
      }
    } catch (JsonProcessingException notJson) {
      // Not the node's error shape (a proxy, say): keep the raw body as the message.
    }
    throw new ApiException(r.statusCode(), code, message);
  }

  private HttpResponse<String> send(String method, String path, Object body) {
    try {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(base.resolve(path))
              .timeout(Duration.ofMinutes(10))
              .header("Authorization", "Bearer " + token);
      if (body == null) {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      } else if (body instanceof Octets o) {
        b.header("Content-Type", "application/octet-stream")
            .method(method, HttpRequest.BodyPublishers.ofByteArray(o.bytes()));
      } else {
        b.header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body)));
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reach the Spindle node at " + base + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(
          new java.io.InterruptedIOException("interrupted calling " + base));
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
