package dev.spindle.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this node reaches and reads on a client's behalf. An API token lets a client run sandboxes,
 * not use the node as a proxy or a file reader: the node connects only to its peers ({@code --peer
 * URL}: fork targets, descriptors' signers, image sources by URL) and reads local files only under
 * the directories its operator names ({@code --allow-path DIR}; none by default). A peer is
 * authenticated by the key it serves at {@code GET /v1/node/key}, fetched from the URL the operator
 * gave, so two nodes that list each other need no other setting.
 */
final class NodePolicy {
  private static final Duration PEER_TIMEOUT = Duration.ofSeconds(3);
  private static final int MAX_KEY_ANSWER = 8 << 10;

  /**
   * A refetch of peers' keys for an unknown signer at most this often: a wrong key costs requests.
   */
  private static final long REFRESH_MILLIS = 5_000;

  private final List<URI> peers;
  private final List<Path> allowPaths;
  private final byte[] ownKey;
  private final Map<URI, byte[]> peerKeys = new ConcurrentHashMap<>();

  /**
   * Made on first use: building an HttpClient initialises the default SSLContext (JSSE, the JCA
   * providers, the CA certificates), a fifth of a node's start-up CPU, and most nodes never ask a
   * peer for its key.
   */
  private HttpClient http;

  private volatile long lastRefresh;

  NodePolicy(List<String> peers, List<Path> allowPaths, byte[] ownKey) {
    List<URI> p = new ArrayList<>();
    for (String s : peers) {
      p.add(peerUri(s));
    }
    this.peers = List.copyOf(p);
    List<Path> a = new ArrayList<>();
    for (Path dir : allowPaths) {
      try {
        a.add(dir.toRealPath());
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "--allow-path " + dir + ": not a directory on this host", e);
      }
      if (!Files.isDirectory(a.getLast())) {
        throw new IllegalArgumentException("--allow-path " + dir + ": not a directory");
      }
    }
    this.allowPaths = List.copyOf(a);
    this.ownKey = ownKey.clone();
  }

  /** A node with no peers and no allowed paths: it fetches and reads nothing for clients. */
  static NodePolicy closed(byte[] ownKey) {
    return new NodePolicy(List.of(), List.of(), ownKey);
  }

  /**
   * Parses a {@code --peer} value: a node's http(s) URL, or a Git server's (git, ssh) that images
   * may be made from.
   */
  static URI peerUri(String s) {
    try {
      URI u = new URI(s);
      if (u.getHost() == null || port(u) < 0) {
        throw new IllegalArgumentException(
            "--peer wants a node's URL, e.g. http://10.0.0.2:8889 (or a Git server's:"
                + " https, git, ssh), got '"
                + s
                + "'");
      }
      return u;
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "--peer wants a node's URL, e.g. http://10.0.0.2:8889, got '" + s + "'", e);
    }
  }

  /** Fails with 403 unless {@code url} is at one of the peers (same scheme, host and port). */
  void requirePeer(String url, String field) {
    URI u;
    try {
      u = new URI(url);
    } catch (URISyntaxException e) {
      throw ApiError.badRequest("bad_field", "field '" + field + "' is not a URL");
    }
    for (URI p : peers) {
      if (sameOrigin(p, u)) {
        return;
      }
    }
    throw new ApiError(
        403,
        "not_a_peer",
        "field '"
            + field
            + "': this node connects only to its peers "
            + (peers.isEmpty() ? "(none: start it with --peer URL)" : "(--peer " + peers + ")"));
  }

  private synchronized HttpClient http() {
    if (http == null) {
      http =
          HttpClient.newBuilder()
              .connectTimeout(PEER_TIMEOUT)
              .followRedirects(HttpClient.Redirect.NEVER)
              .build();
    }
    return http;
  }

  private static boolean sameOrigin(URI peer, URI u) {
    return u.getScheme() != null
        && u.getHost() != null
        && peer.getScheme().equalsIgnoreCase(u.getScheme())
        && peer.getHost().toLowerCase(Locale.ROOT).equals(u.getHost().toLowerCase(Locale.ROOT))
        && port(peer) == port(u);
  }

  private static int port(URI u) {
    if (u.getPort() >= 0) {
      return u.getPort();
    }
    if (u.getScheme() == null) {
      return -1;
    }
    return switch (u.getScheme().toLowerCase(Locale.ROOT)) {
      case "https" -> 443;
      case "http" -> 80;
      case "ssh", "git+ssh" -> 22;
      case "git" -> 9418;
      default -> -1;
    };
  }

  /**
   * A local path a client named, checked to lie under an {@code --allow-path} directory, links
   * resolved (so a link inside cannot point out). The refusal is the same whether or not the path
   * exists, so a client learns nothing about the node's files.
   */
  Path requireAllowed(String path, String field) {
    Path p;
    try {
      p = Path.of(path);
    } catch (java.nio.file.InvalidPathException e) {
      throw ApiError.badRequest("bad_field", "field '" + field + "' is not a path");
    }
    ApiError refused =
        new ApiError(
            403,
            "path_not_allowed",
            "field '"
                + field
                + "': this node reads local files "
                + "only under its --allow-path directories"
                + (allowPaths.isEmpty() ? " (none)" : ""));
    if (!p.isAbsolute() || !under(p.normalize())) {
      throw refused;
    }
    Path real;
    try {
      real = p.toRealPath();
    } catch (IOException e) {
      // Nothing there (under an allowed directory): the caller's own read fails and says so.
      return p.normalize();
    }
    if (!under(real)) {
      throw refused;
    }
    return real;
  }

  private boolean under(Path p) {
    return allowPaths.stream().anyMatch(p::startsWith);
  }

  /**
   * Checks an image source a client named: a URL at a peer, or a local directory or repository
   * under an allowed path. Returns the source to hand to the image maker.
   */
  String requireImageSource(String source) {
    if (source.startsWith("file://")) {
      return "file://" + requireAllowed(source.substring("file://".length()), "source");
    }
    if (source.matches("^[A-Za-z][A-Za-z0-9+.-]*://.*")) {
      requirePeer(source, "source");
      return source;
    }
    if (!source.startsWith("/")) {
      throw ApiError.badRequest(
          "bad_field",
          "field 'source' must be an absolute path on the node or a URL "
              + "(ssh://HOST/PATH rather than HOST:PATH)");
    }
    return requireAllowed(source, "source").toString();
  }

  /**
   * Whether a descriptor sealed by {@code key} may be resumed here: this node's own, or a peer's.
   */
  boolean trustsSigner(byte[] key) {
    if (Arrays.equals(key, ownKey) || known(key)) {
      return true;
    }
    long now = System.currentTimeMillis();
    if (peers.isEmpty() || now - lastRefresh < REFRESH_MILLIS) {
      return false;
    }
    lastRefresh = now;
    for (URI p : peers) {
      if (!p.getScheme().startsWith("http")) {
        continue; // a Git server, not a node: it seals nothing
      }
      try {
        peerKeys.put(p, fetchKey(p));
      } catch (IOException | RuntimeException e) {
        // A peer that is down or answers nonsense is simply not trusted now.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return known(key);
  }

  private boolean known(byte[] key) {
    return peerKeys.values().stream().anyMatch(k -> Arrays.equals(k, key));
  }

  private byte[] fetchKey(URI peer) throws IOException, InterruptedException {
    HttpRequest req =
        HttpRequest.newBuilder(peer.resolve("/v1/node/key")).timeout(PEER_TIMEOUT).GET().build();
    HttpResponse<InputStream> r = http().send(req, HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      byte[] body = in.readNBytes(MAX_KEY_ANSWER + 1);
      if (r.statusCode() != 200 || body.length > MAX_KEY_ANSWER) {
        throw new IOException("peer " + peer + " answered " + r.statusCode() + " for its key");
      }
      JsonNode n = dev.spindle.client.Api.mapper().readTree(body);
      return Base64.getDecoder().decode(n.path("public_key").asText());
    }
  }
}
