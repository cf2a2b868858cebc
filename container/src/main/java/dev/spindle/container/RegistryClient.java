package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Talks the OCI distribution API to one repository of one registry: authentication as the registry
 * asks (a Bearer token from the realm its {@code WWW-Authenticate} names, or Basic), redirects
 * followed by hand so credentials never go to another host, every body read within a bound. What
 * the registry says goes into no message: registries put arbitrary text in bodies and headers, so
 * errors carry a status code and a reason of ours.
 */
final class RegistryClient implements AutoCloseable {
  static final int MAX_MANIFEST = 4 << 20;
  private static final int MAX_TOKEN = 1 << 20;
  private static final int MAX_REDIRECTS = 5;
  static final String MANIFEST_TYPES =
      String.join(
          ", ",
          "application/vnd.oci.image.index.v1+json",
          "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.docker.distribution.manifest.list.v2+json",
          "application/vnd.docker.distribution.manifest.v2+json");
  private static final Pattern PARAM = Pattern.compile("([A-Za-z]+)=\"([^\"]*)\"");
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._~+/=-]{1,16384}");

  /** A manifest as the registry holds it: its bytes, their digest (checked) and media type. */
  record Manifest(byte[] bytes, String digest, String mediaType) {}

  /**
   * An answer other than the one expected, its status code kept for callers that tell them apart.
   */
  static final class StatusException extends IOException {
    private static final long serialVersionUID = 1L;
    final int status;

    StatusException(String message, int status) {
      super(message);
      this.status = status;
    }
  }

  private final RegistryRef ref;
  private final boolean insecure;
  private final RegistryCredentials creds;
  private final String scope; // null for the base endpoint: a token for no repository
  private final Duration timeout;
  private final HttpClient http;
  private String authorization; // what the last challenge asked for; null before any

  /** {@code actions}: {@code pull}, or {@code pull,push}, the token's scope. */
  RegistryClient(RegistryRef ref, boolean insecure, RegistryCredentials creds, String actions) {
    this(ref, insecure, creds, actions, Duration.ofSeconds(30), Duration.ofMinutes(5));
  }

  /**
   * {@code actions} null for a client of the base endpoint only ({@link
   * RegistryRef#parseEndpoint}); {@code connect} and {@code timeout} bound a connection and each
   * request.
   */
  RegistryClient(
      RegistryRef ref,
      boolean insecure,
      RegistryCredentials creds,
      String actions,
      Duration connect,
      Duration timeout) {
    this.ref = ref;
    this.insecure = insecure;
    this.creds = creds;
    this.scope = actions == null ? null : "repository:" + ref.repository() + ":" + actions;
    this.timeout = timeout;
    // HTTP/1.1: over plain HTTP the JDK would try an h2c upgrade, which some registries and
    // proxies mishandle; blobs are fetched one at a time, so HTTP/2 would win nothing here.
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(connect)
            .build();
  }

  RegistryRef ref() {
    return ref;
  }

  /** True once a challenge was answered: requests now carry a token or Basic credentials. */
  boolean authenticated() {
    return authorization != null;
  }

  /**
   * GET {@code path} below {@code /v2/REPO/}, authenticated; the caller reads and closes the body.
   */
  HttpResponse<InputStream> get(String path, Map<String, String> headers) throws IOException {
    return send("GET", ref.api(insecure, path), headers, HttpRequest.BodyPublishers.noBody());
  }

  /**
   * Sends one request: answers a 401 challenge once, follows redirects, returns any other answer.
   */
  HttpResponse<InputStream> send(
      String method, URI uri, Map<String, String> headers, HttpRequest.BodyPublisher body)
      throws IOException {
    boolean challenged = false;
    URI target = uri;
    String m = method;
    for (int hops = 0; ; ) {
      HttpRequest.Builder b = HttpRequest.newBuilder(target).method(m, body).timeout(timeout);
      headers.forEach(b::header);
      boolean registry =
          sameOrigin(target, ref.api(insecure, "")); // credentials go to the registry only
      if (authorization != null && registry) {
        b.header("Authorization", authorization);
      }
      HttpResponse<InputStream> r = exchange(b.build());
      int s = r.statusCode();
      if (s == 401 && registry && !challenged) {
        r.body().close();
        authenticate(r.headers().firstValue("WWW-Authenticate").orElse(""));
        challenged = true;
        continue;
      }
      if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
        r.body().close();
        if (++hops > MAX_REDIRECTS) {
          throw new IOException(where() + ": more than " + MAX_REDIRECTS + " redirects");
        }
        URI next;
        try {
          next =
              target.resolve(
                  r.headers()
                      .firstValue("Location")
                      .orElseThrow(
                          () ->
                              new IOException(
                                  where() + ": answered " + s + " without a Location")));
        } catch (IllegalArgumentException bad) {
          throw new IOException(
              where() + ": answered " + s + " with a Location that is not a URI", bad);
        }
        checkScheme(next, "redirect");
        target = next;
        if (s == 303) {
          m = "GET";
          body = HttpRequest.BodyPublishers.noBody();
        }
        continue;
      }
      return r;
    }
  }

  /** True when the registry holds blob {@code digest} (HEAD, so nothing is sent twice). */
  boolean hasBlob(String digest) throws IOException {
    HttpResponse<InputStream> r =
        send(
            "HEAD",
            ref.api(insecure, "blobs/" + digest),
            Map.of(),
            HttpRequest.BodyPublishers.noBody());
    r.body().close();
    if (r.statusCode() == 200 || r.statusCode() == 404) {
      return r.statusCode() == 200;
    }
    throw failure("blob " + digest, r.statusCode());
  }

  /**
   * Uploads a blob in one PUT (POST for an upload session first); the registry checks the digest.
   */
  void putBlob(String digest, long size, HttpRequest.BodyPublisher body) throws IOException {
    HttpResponse<InputStream> start =
        send(
            "POST",
            ref.api(insecure, "blobs/uploads/"),
            Map.of(),
            HttpRequest.BodyPublishers.noBody());
    start.body().close();
    if (start.statusCode() != 202) {
      throw failure("upload of blob " + digest, start.statusCode());
    }
    URI location;
    try {
      location =
          ref.api(insecure, "blobs/uploads/")
              .resolve(
                  start
                      .headers()
                      .firstValue("Location")
                      .orElseThrow(
                          () ->
                              new IOException(
                                  where()
                                      + ": upload of blob "
                                      + digest
                                      + ": 202 without a Location")));
    } catch (IllegalArgumentException bad) {
      throw new IOException(
          where() + ": upload of blob " + digest + ": its Location is not a URI", bad);
    }
    checkScheme(location, "upload location");
    URI put =
        URI.create(
            location
                + (location.getRawQuery() == null ? "?" : "&")
                + "digest="
                + URLEncoder.encode(digest, StandardCharsets.UTF_8));
    HttpResponse<InputStream> r =
        send("PUT", put, Map.of("Content-Type", "application/octet-stream"), body);
    r.body().close();
    if (r.statusCode() != 201) {
      throw failure("upload of blob " + digest + " (" + size + " bytes)", r.statusCode());
    }
  }

  /** Stores {@code manifest} under {@code reference} (a tag). */
  void putManifest(String reference, String mediaType, byte[] manifest) throws IOException {
    HttpResponse<InputStream> r =
        send(
            "PUT",
            ref.api(insecure, "manifests/" + reference),
            Map.of("Content-Type", mediaType),
            HttpRequest.BodyPublishers.ofByteArray(manifest));
    r.body().close();
    if (r.statusCode() != 201) {
      throw failure("manifest " + ref, r.statusCode());
    }
  }

  /** Reads a manifest by tag or digest, at most {@value #MAX_MANIFEST} bytes, digest checked. */
  Manifest manifest(String reference) throws IOException {
    HttpResponse<InputStream> r = get("manifests/" + reference, Map.of("Accept", MANIFEST_TYPES));
    String what = "manifest " + (reference.startsWith("sha256:") ? reference : ref.toString());
    byte[] b;
    try (InputStream in = r.body()) {
      if (r.statusCode() != 200) {
        throw failure(what, r.statusCode());
      }
      b = readAtMost(in, MAX_MANIFEST, what);
    }
    String digest = sha256(b);
    if (RegistryRef.DIGEST.matcher(reference).matches() && !digest.equals(reference)) {
      throw new IOException(what + " is damaged: its sha256 is " + digest);
    }
    // By tag, the registry's own word on the digest is the only check there is.
    String said = r.headers().firstValue("Docker-Content-Digest").orElse("");
    if (RegistryRef.DIGEST.matcher(said).matches() && !said.equals(digest)) {
      throw new IOException(
          what + " is damaged: its sha256 is " + digest + ", the registry says " + said);
    }
    String type = r.headers().firstValue("Content-Type").orElse("").replaceFirst(";.*", "").strip();
    return new Manifest(b, digest, type);
  }

  /** A small blob (an image config) of the size the manifest gave, read whole and checked. */
  byte[] smallBlob(String digest, long size, int limit) throws IOException {
    if (size < 0 || size > limit) {
      throw new IOException(
          "blob "
              + digest
              + ": the manifest gives it "
              + size
              + " bytes, more than "
              + limit
              + " a config may have");
    }
    HttpResponse<InputStream> r = get("blobs/" + digest, Map.of());
    byte[] b;
    try (InputStream in = r.body()) {
      if (r.statusCode() != 200) {
        throw failure("blob " + digest, r.statusCode());
      }
      b = readAtMost(in, (int) size, "blob " + digest);
    }
    if (b.length != size || !sha256(b).equals(digest)) {
      throw new IOException(
          "blob "
              + digest
              + " is damaged: "
              + b.length
              + " bytes with sha256 "
              + sha256(b)
              + ", the manifest says "
              + size
              + " bytes");
    }
    return b;
  }

  /**
   * Exactly {@code length} bytes at {@code offset} of blob {@code digest}, by a Range request; a
   * registry that answers with the whole blob (it ignores Range) is a clear error, not a download.
   */
  byte[] range(String digest, long offset, int length) throws IOException {
    long last = offset + length - 1;
    HttpResponse<InputStream> r =
        get("blobs/" + digest, Map.of("Range", "bytes=" + offset + "-" + last));
    try (InputStream in = r.body()) {
      if (r.statusCode() == 200) {
        throw new IOException(
            where()
                + ": blob "
                + digest
                + ": the registry ignores Range requests, which lazy"
                + " pulls need (pull whole, without --lazy)");
      }
      if (r.statusCode() != 206) {
        throw failure("blob " + digest + " bytes " + offset + "-" + last, r.statusCode());
      }
      String cr = r.headers().firstValue("Content-Range").orElse("");
      if (!cr.startsWith("bytes " + offset + "-" + last + "/")) {
        throw new IOException(
            where()
                + ": blob "
                + digest
                + ": the registry answered a range request with another range");
      }
      byte[] b = readAtMost(in, length, "blob " + digest + " bytes " + offset + "-" + last);
      if (b.length != length) {
        throw new IOException(
            where()
                + ": blob "
                + digest
                + ": "
                + b.length
                + " of the "
                + length
                + " bytes at "
                + offset
                + " arrived (the connection broke)");
      }
      return b;
    }
  }

  /** The error for an answer other than the one expected: status code and our reason only. */
  StatusException failure(String what, int status) {
    String reason =
        switch (status) {
          case 401 ->
              creds == null
                  ? "unauthorized: the registry needs credentials (--creds USER:PASS, or docker login)"
                  : "unauthorized: the registry refused the credentials for " + creds.user();
          case 403 -> "forbidden: these credentials may not use " + ref.repository();
          case 404 -> "not found";
          case 416 -> "range not satisfiable";
          case 429 -> "too many requests: try again later";
          default -> status >= 500 ? "the registry failed" : "refused";
        };
    return new StatusException(where() + ": " + what + ": " + status + " " + reason, status);
  }

  private String where() {
    return "registry " + ref.host();
  }

  /** Answers a challenge: fetches a token from the realm, or offers Basic credentials. */
  private void authenticate(String challenge) throws IOException {
    if (challenge.regionMatches(true, 0, "Bearer ", 0, 7)) {
      Map<String, String> p = params(challenge.substring(7));
      URI realm;
      try {
        realm = URI.create(p.getOrDefault("realm", ""));
      } catch (IllegalArgumentException bad) {
        throw new IOException(where() + ": its token realm is not a URI", bad);
      }
      if (realm.getHost() == null) {
        throw new IOException(where() + ": its challenge names no token realm");
      }
      checkScheme(realm, "token realm");
      StringBuilder q = new StringBuilder();
      if (p.containsKey("service")) {
        q.append("service=")
            .append(URLEncoder.encode(p.get("service"), StandardCharsets.UTF_8))
            .append('&');
      }
      if (scope != null) {
        q.append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8)).append('&');
      }
      String query = q.isEmpty() ? "" : q.substring(0, q.length() - 1);
      URI uri =
          URI.create(
              realm + (query.isEmpty() ? "" : (realm.getRawQuery() == null ? "?" : "&") + query));
      HttpRequest.Builder b =
          HttpRequest.newBuilder(uri)
              .GET()
              .timeout(
                  timeout.compareTo(Duration.ofMinutes(1)) < 0 ? timeout : Duration.ofMinutes(1));
      if (creds != null) {
        b.header("Authorization", creds.basic());
      }
      HttpResponse<InputStream> r = exchange(b.build());
      byte[] body;
      try (InputStream in = r.body()) {
        if (r.statusCode() != 200) {
          throw failure("token", r.statusCode());
        }
        body = readAtMost(in, MAX_TOKEN, "token");
      }
      JsonNode t = OciArchive.json(body, where() + ": token answer");
      String token = t.path("token").asText(t.path("access_token").asText(""));
      if (!TOKEN.matcher(token).matches()) {
        throw new IOException(where() + ": the token answer holds no usable token");
      }
      authorization = "Bearer " + token;
    } else if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
      if (creds == null) {
        throw failure("login", 401);
      }
      if (authorization != null && authorization.equals(creds.basic())) {
        throw failure("login", 401);
      }
      authorization = creds.basic();
    } else {
      throw new IOException(where() + ": answered 401 without a Bearer or Basic challenge");
    }
  }

  private static Map<String, String> params(String s) {
    Map<String, String> out = new LinkedHashMap<>();
    Matcher m = PARAM.matcher(s);
    while (m.find()) {
      out.putIfAbsent(m.group(1).toLowerCase(java.util.Locale.ROOT), m.group(2));
    }
    return out;
  }

  /** Plain HTTP only when asked for: credentials and tokens would cross the network in clear. */
  private void checkScheme(URI uri, String what) throws IOException {
    String s = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!(s.equals("https") || (s.equals("http") && insecure))) {
      throw new IOException(
          where() + ": its " + what + " is not HTTPS (use --insecure to allow plain HTTP)");
    }
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getRawAuthority().equalsIgnoreCase(b.getRawAuthority());
  }

  private HttpResponse<InputStream> exchange(HttpRequest request) throws IOException {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted talking to " + where());
    } catch (javax.net.ssl.SSLException e) {
      throw new IOException(
          where() + ": " + e + (insecure ? "" : " (a registry without TLS needs --insecure)"), e);
    } catch (IOException e) {
      // The JDK's message names the host and the failure (refused, reset, TLS), never the peer's
      // words.
      throw new IOException(where() + ": " + e, e);
    }
  }

  static byte[] readAtMost(InputStream in, int limit, String what) throws IOException {
    byte[] b = in.readNBytes(limit + 1);
    if (b.length > limit) {
      throw new IOException(what + " is larger than " + limit + " bytes");
    }
    return b;
  }

  static String sha256(byte[] b) {
    return "sha256:" + Hashes.sha256Hex(b);
  }

  @Override
  public void close() {
    http.close();
  }
}
