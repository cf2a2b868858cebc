package dev.spindle.container;

import java.nio.file.Path;

/**
 * How to reach a registry: {@code creds} ({@code USER:PASS}, or null for those of {@code
 * dockerConfig}, Docker's config.json, or none), the platform to take from a multi-platform index
 * ({@code OS/ARCH[/VARIANT]}, null for linux/amd64), plain HTTP when {@code insecure}, and where
 * blobs are staged while they download ({@code staging}, {@code SpindleHome.registryStaging()}, so
 * a rerun after a broken connection resumes where it stopped).
 */
public record RegistryOptions(
    String creds, Path dockerConfig, String platform, boolean insecure, Path staging) {
  /**
   * Docker's config.json as the docker CLI finds it: {@code $DOCKER_CONFIG}, else {@code
   * ~/.docker}.
   */
  public static Path defaultDockerConfig() {
    String dir = System.getenv("DOCKER_CONFIG");
    return (dir != null && !dir.isBlank()
            ? Path.of(dir)
            : Path.of(System.getProperty("user.home"), ".docker"))
        .resolve("config.json");
  }
}
