package dev.spindle.cli;

import dev.spindle.container.RegistryOptions;
import dev.spindle.store.SpindleHome;
import picocli.CommandLine.Option;

/** How to reach a registry, for {@code docker://} sources. */
final class RegistryFlags {
  @Option(names = "--creds", paramLabel = "USER:PASS",
      description = "Registry credentials (shown by ps to other users; 'docker login' keeps them in"
          + " ~/.docker/config.json, used by default).")
  String creds;

  @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
      description = "The image to take from a multi-platform index (default: linux/amd64).")
  String platform;

  @Option(names = "--insecure",
      description = "Talk plain HTTP to the registry: no TLS, credentials cross the network in clear.")
  boolean insecure;

  RegistryOptions options(SpindleHome home) {
    return new RegistryOptions(creds, RegistryOptions.defaultDockerConfig(), platform, insecure,
        RegistryOptions.stagingIn(home.root()));
  }
}
