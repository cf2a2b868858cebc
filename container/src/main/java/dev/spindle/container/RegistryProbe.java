package dev.spindle.container;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * Whether a registry answers, for {@code spindle doctor}: {@code GET /v2/}, the OCI distribution
 * API's base endpoint, with the login a pull would use (a Bearer token from the challenge's realm,
 * or Basic). {@code address} is the {@code HOST:PORT} asked. As everywhere the registry is spoken
 * to, what the server sent goes into no detail: a status code and our words, and the API version
 * header only when it has the form the spec gives it.
 */
public record RegistryProbe(String address, Outcome outcome, String detail) {
  /** What the base endpoint said: only {@link #OK} is a registry Spindle can use. */
  public enum Outcome {
    OK,
    AUTH_FAILED,
    UNREACHABLE,
    NOT_A_REGISTRY,
    TLS,
    FAILED
  }

  static final String VERSION_HEADER = "Docker-Distribution-API-Version";
  private static final Pattern VERSION = Pattern.compile("registry/[0-9]{1,3}(\\.[0-9]{1,3}){0,2}");
  private static final Duration CONNECT = Duration.ofSeconds(5);
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  /**
   * Checks {@code source}, {@code docker://HOST[:PORT]}, with the credentials and scheme {@code o}
   * gives (as {@code image import} takes them). Throws IllegalArgumentException for a source that
   * is not one.
   */
  public static RegistryProbe check(String source, RegistryOptions o) {
    RegistryRef ref = RegistryRef.parseEndpoint(source);
    String address = ref.address(o.insecure());
    RegistryCredentials creds;
    try {
      creds = RegistryCredentials.resolve(o.creds(), o.dockerConfig(), ref.host());
    } catch (IOException e) {
      return new RegistryProbe(
          address, Outcome.FAILED, "cannot read credentials: " + e.getMessage());
    }
    try (RegistryClient client =
        new RegistryClient(ref, o.insecure(), creds, null, CONNECT, TIMEOUT)) {
      HttpResponse<InputStream> r =
          client.send("GET", ref.base(o.insecure()), Map.of(), HttpRequest.BodyPublishers.noBody());
      r.body().close();
      return answered(
          address,
          r.statusCode(),
          r.headers().firstValue(VERSION_HEADER),
          creds,
          client.authenticated());
    } catch (RegistryClient.StatusException e) {
      // The challenge's own step failed: the token realm or a Basic login refused.
      return e.status == 401 || e.status == 403
          ? authFailed(address, e.status, creds)
          : new RegistryProbe(address, Outcome.FAILED, "the login step answered " + e.status);
    } catch (IOException e) {
      return unanswered(address, e, o.insecure());
    }
  }

  private static RegistryProbe answered(
      String address,
      int status,
      Optional<String> version,
      RegistryCredentials creds,
      boolean authenticated) {
    if (status == 200) {
      String api =
          version
              .map(v -> VERSION.matcher(v).matches() ? v : "an API version header of another form")
              .orElse("no API version header");
      String login =
          !authenticated
              ? "no login needed"
              : creds != null ? "logged in as " + creds.user() : "anonymous token";
      return new RegistryProbe(address, Outcome.OK, "answers /v2/ (" + api + "), " + login);
    }
    if (status == 401 || status == 403) {
      return authFailed(address, status, creds);
    }
    if (version.isEmpty()) {
      return new RegistryProbe(
          address,
          Outcome.NOT_A_REGISTRY,
          "not a registry: GET /v2/ answered "
              + status
              + " without a "
              + VERSION_HEADER
              + " header (is this the registry's address and port?)");
    }
    return new RegistryProbe(
        address, Outcome.FAILED, "the registry answered GET /v2/ with " + status);
  }

  private static RegistryProbe authFailed(String address, int status, RegistryCredentials creds) {
    return new RegistryProbe(
        address,
        Outcome.AUTH_FAILED,
        creds == null
            ? "auth failed: "
                + status
                + " without credentials: give --creds USER:PASS (or docker login)"
            : "auth failed: "
                + status
                + " with the credentials of "
                + creds.user()
                + ": the registry refused them");
  }

  /**
   * No HTTP answer: the JDK's message may quote the peer (a bad status line), so only its kind is
   * named.
   */
  private static RegistryProbe unanswered(String address, IOException e, boolean insecure) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLException) {
        return new RegistryProbe(
            address,
            Outcome.TLS,
            "TLS problem: the handshake with "
                + address
                + " failed"
                + (insecure
                    ? " (the token realm is HTTPS: is its certificate trusted?)"
                    : " (a registry on plain HTTP needs --insecure; else is its certificate trusted?)"));
      }
      if (t instanceof HttpConnectTimeoutException) {
        return new RegistryProbe(
            address,
            Outcome.UNREACHABLE,
            "unreachable: connecting to "
                + address
                + " timed out after "
                + CONNECT.toSeconds()
                + " s");
      }
      if (t instanceof HttpTimeoutException) {
        return new RegistryProbe(
            address,
            Outcome.UNREACHABLE,
            "unreachable: "
                + address
                + " accepted the connection"
                + " but did not answer within "
                + TIMEOUT.toSeconds()
                + " s");
      }
      if (t instanceof UnknownHostException) {
        return new RegistryProbe(
            address, Outcome.UNREACHABLE, "unreachable: unknown host in " + address);
      }
      if (t instanceof NoRouteToHostException) {
        return new RegistryProbe(
            address, Outcome.UNREACHABLE, "unreachable: no route to " + address);
      }
      if (t instanceof ConnectException) {
        return new RegistryProbe(
            address, Outcome.UNREACHABLE, "unreachable: connection to " + address + " refused");
      }
      if (t instanceof InterruptedIOException && !(t instanceof HttpTimeoutException)) {
        Thread.currentThread().interrupt();
        return new RegistryProbe(address, Outcome.FAILED, "interrupted");
      }
    }
    // The JDK's failures come wrapped (RegistryClient.exchange); our own reasons (a realm that is
    // not
    // HTTPS, a challenge of no known scheme) do not, and quote nothing the server sent.
    return !(e.getCause() instanceof IOException)
        ? new RegistryProbe(address, Outcome.FAILED, e.getMessage())
        : new RegistryProbe(
            address,
            Outcome.NOT_A_REGISTRY,
            "not a registry: "
                + address
                + " gave no usable HTTP answer to GET /v2/ ("
                + e.getCause().getClass().getSimpleName()
                + ")");
  }
}
