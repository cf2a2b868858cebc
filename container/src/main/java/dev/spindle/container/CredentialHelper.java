package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A docker credential helper ({@code docker-credential-NAME}, as {@code credHelpers} or {@code
 * credsStore} in Docker's config.json name it), run with {@code get}, the registry's server URL on
 * stdin, its answer the JSON {@code {"Username":…,"Secret":…}} on stdout. Its output is bounded and
 * goes into no message (it holds the secret); its stderr is dropped for the same reason.
 */
final class CredentialHelper {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final int MAX_ANSWER = 64 << 10;
  private static final long TIMEOUT_SECONDS = 60;

  /** The helpers' own word for "no credentials stored for this server". */
  private static final String NOT_FOUND = "credentials not found";

  private CredentialHelper() {}

  /**
   * The credentials helper {@code name} holds for {@code serverUrl}, or null when it holds none.
   */
  static RegistryCredentials get(String name, String serverUrl, String path, Path config)
      throws IOException {
    if (!NAME.matcher(name).matches()) {
      throw new IOException(
          config
              + ": '"
              + name.replaceAll("[^\\x20-\\x7e]", "?")
              + "' is not a credential helper's name");
    }
    String program = "docker-credential-" + name;
    Path exe = find(program, path);
    if (exe == null) {
      throw new IOException(
          config
              + " names the credential helper "
              + program
              + ", which is not on PATH (install it, or give --creds USER:PASS)");
    }
    Process p =
        new ProcessBuilder(exe.toString(), "get")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    byte[] out;
    try {
      try (OutputStream in = p.getOutputStream()) {
        in.write(serverUrl.getBytes(StandardCharsets.UTF_8));
      }
      try (InputStream o = p.getInputStream()) {
        out = o.readNBytes(MAX_ANSWER + 1);
      }
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IOException(program + " get: no answer within " + TIMEOUT_SECONDS + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted asking " + program);
    } finally {
      p.destroyForcibly();
    }
    if (out.length > MAX_ANSWER) {
      throw new IOException(program + " get: an answer larger than " + MAX_ANSWER + " bytes");
    }
    if (p.exitValue() != 0) {
      // Helpers print "credentials not found in native keychain" on stdout and exit 1.
      if (new String(out, StandardCharsets.UTF_8)
          .toLowerCase(java.util.Locale.ROOT)
          .contains(NOT_FOUND)) {
        return null;
      }
      throw new IOException(program + " get failed (exit " + p.exitValue() + ") for " + serverUrl);
    }
    JsonNode a;
    try {
      a = OciConfig.JSON.readTree(out);
    } catch (IOException bad) {
      throw new IOException(program + " get: its answer is not JSON");
    }
    String user = a == null ? "" : a.path("Username").asText("");
    String secret = a == null ? "" : a.path("Secret").asText("");
    if (secret.isEmpty()) {
      throw new IOException(program + " get: its answer holds no Secret");
    }
    if (user.isEmpty() || user.equals("<token>")) {
      throw new IOException(
          program
              + " get: it holds an identity token for "
              + serverUrl
              + ", which Spindle does not exchange (give --creds USER:PASS)");
    }
    return new RegistryCredentials(user, secret);
  }

  private static Path find(String program, String path) {
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path c = Path.of(dir, program);
      if (Files.isRegularFile(c) && Files.isExecutable(c)) {
        return c;
      }
    }
    return null;
  }
}
