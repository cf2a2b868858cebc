package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.store.AtomicFiles;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How an imported container image wants to run: what its OCI/Docker config says (Entrypoint, Cmd,
 * Env, WorkingDir, User) and its image id (sha256 of the config, as {@code docker images} shows
 * it). Kept beside the image file as {@code <tag>.oci.json}: the image itself holds files only.
 */
public record OciImageConfig(
    String imageId,
    List<String> entrypoint,
    List<String> cmd,
    List<String> env,
    String workingDir,
    String user) {
  public static final String SUFFIX = ".oci.json";
  private static final int VERSION = 1;

  public OciImageConfig {
    entrypoint = List.copyOf(entrypoint);
    cmd = List.copyOf(cmd);
    env = List.copyOf(env);
  }

  /** Reads an image config (the JSON blob a manifest's "config" names). */
  static OciImageConfig parse(byte[] configBlob) throws IOException {
    JsonNode root = OciArchive.json(configBlob, "image config");
    JsonNode c = root.path("config");
    String id = "sha256:" + Hashes.sha256Hex(configBlob);
    return new OciImageConfig(
        id,
        strings(c.path("Entrypoint")),
        strings(c.path("Cmd")),
        strings(c.path("Env")),
        c.path("WorkingDir").asText(""),
        c.path("User").asText(""));
  }

  /** What to run when the user gives no command: Entrypoint + Cmd. */
  public List<String> command() {
    List<String> all = new ArrayList<>(entrypoint);
    all.addAll(cmd);
    return all;
  }

  /** A spec with this config's command (unless {@code args} is given), env and working dir. */
  public ContainerSpec applyTo(ContainerSpec spec) {
    ContainerSpec s = spec;
    if (!env.isEmpty()) {
      s = s.withEnv(env);
    }
    if (!workingDir.isEmpty()) {
      s = s.withCwd(workingDir);
    }
    return s;
  }

  /** The sidecar of an image file: {@code images/<tag>.img} → {@code images/<tag>.oci.json}. */
  public static Path sidecarOf(Path imageFile) {
    String name = imageFile.getFileName().toString().replaceFirst("\\.img$", "");
    return imageFile.resolveSibling(name + SUFFIX);
  }

  public static Optional<OciImageConfig> readFor(Path imageFile) throws IOException {
    Path p = sidecarOf(imageFile);
    if (!Files.exists(p)) {
      return Optional.empty();
    }
    JsonNode j = OciArchive.json(Files.readAllBytes(p), p.toString());
    if (j.path("version").asInt() != VERSION) {
      throw new IOException(
          p + ": unknown version " + j.path("version") + " (this spindle reads " + VERSION + ")");
    }
    return Optional.of(
        new OciImageConfig(
            j.path("imageId").asText(),
            strings(j.path("entrypoint")),
            strings(j.path("cmd")),
            strings(j.path("env")),
            j.path("workingDir").asText(""),
            j.path("user").asText("")));
  }

  void writeFor(Path imageFile) throws IOException {
    ObjectNode j = OciConfig.JSON.createObjectNode();
    j.put("version", VERSION);
    j.put("imageId", imageId);
    entrypoint.forEach(j.putArray("entrypoint")::add);
    cmd.forEach(j.putArray("cmd")::add);
    env.forEach(j.putArray("env")::add);
    j.put("workingDir", workingDir);
    j.put("user", user);
    AtomicFiles.write(
        sidecarOf(imageFile),
        OciConfig.JSON.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(j));
  }

  private static List<String> strings(JsonNode a) {
    List<String> out = new ArrayList<>();
    a.forEach(n -> out.add(n.asText()));
    return out;
  }
}
