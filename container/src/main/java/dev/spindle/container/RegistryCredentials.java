package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Set;

/**
 * A user and password for a registry: {@code --creds USER:PASS}, else what Docker's {@code
 * config.json} gives for the registry's host, in the docker CLI's order: its {@code credHelpers}
 * entry, else its {@code credsStore}, each a {@code docker-credential-NAME} program asked with
 * {@code get}, else its {@code auths} entry (what {@code docker login} writes without a store).
 * Never printed: {@link #toString} hides the password.
 */
record RegistryCredentials(String user, String password) {
  /** Docker Hub's entries are keyed by its old v1 URL, or by any of its names. */
  private static final Set<String> DOCKER_HUB =
      Set.of("docker.io", "index.docker.io", "registry-1.docker.io");

  private static final int MAX_CONFIG = 1 << 20;

  /** {@code USER:PASS}, split at the first colon (a password may hold colons, a user may not). */
  static RegistryCredentials parse(String creds) {
    int colon = creds.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("--creds takes USER:PASS");
    }
    return new RegistryCredentials(creds.substring(0, colon), creds.substring(colon + 1));
  }

  /**
   * The credentials to offer {@code host}: {@code creds} if given, else those {@code dockerConfig}
   * (a config.json, may be missing or null) holds for it, else null (anonymous).
   */
  static RegistryCredentials resolve(String creds, Path dockerConfig, String host)
      throws IOException {
    return resolve(creds, dockerConfig, host, System.getenv("PATH"));
  }

  /** As {@link #resolve(String, Path, String)}, credential helpers searched for in {@code path}. */
  static RegistryCredentials resolve(String creds, Path dockerConfig, String host, String path)
      throws IOException {
    if (creds != null) {
      return parse(creds);
    }
    if (dockerConfig == null || !Files.isRegularFile(dockerConfig)) {
      return null;
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(dockerConfig)) {
      bytes = in.readNBytes(MAX_CONFIG + 1);
    }
    if (bytes.length > MAX_CONFIG) {
      throw new IOException(dockerConfig + " is larger than " + MAX_CONFIG + " bytes");
    }
    JsonNode config = OciArchive.json(bytes, dockerConfig.toString());
    for (Map.Entry<String, JsonNode> e : config.path("credHelpers").properties()) {
      if (sameHost(key(e.getKey()), host)) {
        return CredentialHelper.get(e.getValue().asText(), serverUrl(host), path, dockerConfig);
      }
    }
    if (!config.path("credsStore").asText("").isEmpty()) {
      return CredentialHelper.get(
          config.path("credsStore").asText(), serverUrl(host), path, dockerConfig);
    }
    JsonNode auths = config.path("auths");
    for (Map.Entry<String, JsonNode> e : auths.properties()) {
      if (sameHost(key(e.getKey()), host)) {
        return fromEntry(e.getValue(), dockerConfig);
      }
    }
    return null;
  }

  /** What docker hands a helper for a host: Docker Hub's v1 URL, else the bare host. */
  private static String serverUrl(String host) {
    return DOCKER_HUB.contains(host) ? "https://index.docker.io/v1/" : host;
  }

  /** The {@code host[:port]} of an auths key, which may be a bare host or a URL. */
  private static String key(String k) {
    String h = k.replaceFirst("^[a-z]+://", "");
    int slash = h.indexOf('/');
    return slash < 0 ? h : h.substring(0, slash);
  }

  private static boolean sameHost(String a, String b) {
    return a.equalsIgnoreCase(b) || (DOCKER_HUB.contains(a) && DOCKER_HUB.contains(b));
  }

  private static RegistryCredentials fromEntry(JsonNode e, Path where) throws IOException {
    if (e.hasNonNull("auth")) {
      String decoded;
      try {
        decoded =
            new String(Base64.getDecoder().decode(e.get("auth").asText()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException bad) {
        throw new IOException(where + ": an 'auth' entry is not base64", bad);
      }
      try {
        return parse(decoded);
      } catch (IllegalArgumentException bad) {
        throw new IOException(where + ": an 'auth' entry is not base64 of USER:PASS", bad);
      }
    }
    if (e.hasNonNull("username") && e.hasNonNull("password")) {
      return new RegistryCredentials(e.get("username").asText(), e.get("password").asText());
    }
    return null; // e.g. an identity token for a credential helper: not spoken here
  }

  String basic() {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return user + ":***";
  }
}
