package dev.spindle.cli;

import dev.spindle.container.RegistryOptions;
import dev.spindle.store.SpindleHome;
import picocli.CommandLine.Option;

/** How to reach a registry, for {@code docker://} sources. */
final class RegistryFlags {
  @Option(
      names = "--creds",
      paramLabel = "USER:PASS",
      description =
          "Registry credentials (shown by ps to other users; 'docker login' keeps them in"
              + " ~/.docker/config.json, used by default, with its credHelpers and credsStore).")
  String creds;

  @Option(
      names = "--insecure",
      description =
          "Talk plain HTTP to the registry: no TLS, credentials cross the network in clear.")
  boolean insecure;

  /** {@code platform}: OS/ARCH[/VARIANT] to take from an index, null for linux/amd64. */
  RegistryOptions options(SpindleHome home, String platform) {
    return new RegistryOptions(
        creds, RegistryOptions.defaultDockerConfig(), platform, insecure, home.registryStaging());
  }
}
