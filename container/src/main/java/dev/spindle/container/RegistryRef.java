package dev.spindle.container;

import java.net.URI;
import java.util.regex.Pattern;

/**
 * An image in a registry: {@code docker://HOST[:PORT]/REPO[:TAG|@DIGEST]} (skopeo's spelling). The
 * host is always named, so a name never silently means Docker Hub; {@code docker.io} does, with its
 * API at {@code registry-1.docker.io} and one-word names under {@code library/}.
 */
record RegistryRef(String host, String repository, String tag, String digest) {
  static final String PREFIX = "docker://";
  // The distribution spec's grammar: lowercase path components, tags of at most 128 characters.
  private static final Pattern HOST =
      Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?");
  private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
  static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

  static boolean isRegistry(String source) {
    return source.startsWith(PREFIX);
  }

  static RegistryRef parse(String source) {
    if (!isRegistry(source)) {
      throw new IllegalArgumentException(
          "a registry image is docker://HOST[:PORT]/REPO[:TAG|@DIGEST], got: " + source);
    }
    String rest = source.substring(PREFIX.length());
    int slash = rest.indexOf('/');
    String host = slash < 0 ? "" : rest.substring(0, slash);
    if (!HOST.matcher(host).matches()
        || !(host.contains(".") || host.contains(":") || host.equals("localhost"))) {
      throw new IllegalArgumentException(
          source
              + ": name the registry, docker://HOST[:PORT]/REPO:TAG"
              + " (Docker Hub is docker://docker.io/library/debian:12)");
    }
    String name = rest.substring(slash + 1);
    String tag = null;
    String digest = null;
    int at = name.indexOf('@');
    if (at >= 0) {
      digest = name.substring(at + 1);
      name = name.substring(0, at);
      if (!DIGEST.matcher(digest).matches()) {
        throw new IllegalArgumentException(source + ": a digest is sha256:<64 lowercase hex>");
      }
    } else {
      int colon = name.lastIndexOf(':');
      if (colon > name.lastIndexOf('/')) {
        tag = name.substring(colon + 1);
        name = name.substring(0, colon);
        if (!TAG.matcher(tag).matches()) {
          throw new IllegalArgumentException(
              source + ": a tag is [A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
        }
      } else {
        tag = "latest";
      }
    }
    for (String c : name.split("/", -1)) {
      if (!COMPONENT.matcher(c).matches()) {
        throw new IllegalArgumentException(
            source + ": a repository is lowercase components separated by '/'");
      }
    }
    if (host.equals("docker.io") && !name.contains("/")) {
      name = "library/" + name;
    }
    return new RegistryRef(host, name, tag, digest);
  }

  /**
   * A registry itself, {@code docker://HOST[:PORT]} (a trailing slash allowed), for its base
   * endpoint {@code /v2/}: the repository is empty.
   */
  static RegistryRef parseEndpoint(String source) {
    String host = source.startsWith(PREFIX) ? source.substring(PREFIX.length()) : "";
    if (host.endsWith("/")) {
      host = host.substring(0, host.length() - 1);
    }
    if (!HOST.matcher(host).matches()
        || !(host.contains(".") || host.contains(":") || host.equals("localhost"))) {
      throw new IllegalArgumentException(
          "a registry is docker://HOST[:PORT] (Docker Hub is docker://docker.io), got: " + source);
    }
    return new RegistryRef(host, "", null, null);
  }

  /**
   * The API's base endpoint, {@code /v2/}, which every registry answers (200, or 401 with a
   * challenge).
   */
  URI base(boolean insecure) {
    return URI.create((insecure ? "http://" : "https://") + apiHost() + "/v2/");
  }

  /** {@code HOST:PORT} the API answers at, the scheme's default port named. */
  String address(boolean insecure) {
    String h = apiHost();
    return h.matches(".*:[0-9]+") ? h : h + ":" + (insecure ? 80 : 443);
  }

  /** Where the API answers: Docker Hub's name for people is not its API's. */
  String apiHost() {
    return host.equals("docker.io") ? "registry-1.docker.io" : host;
  }

  /** The tag or digest, as the manifest endpoint takes it. */
  String reference() {
    return digest != null ? digest : tag;
  }

  URI api(boolean insecure, String path) {
    return URI.create(
        (insecure ? "http://" : "https://") + apiHost() + "/v2/" + repository + "/" + path);
  }

  @Override
  public String toString() {
    return PREFIX + host + "/" + repository + (digest != null ? "@" + digest : ":" + tag);
  }
}
