package dev.spindle.cli;

import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.store.SpindleHome;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command takes: where the store is, and whether to draw progress. */
final class CommonOptions {
  @Option(
      names = "--home",
      paramLabel = "DIR",
      description = "Spindle home (store directory). Default: $SPINDLE_HOME, else ~/.spindle.")
  Path home;

  @Option(names = {"-q", "--quiet"}, description = "No progress bars.")
  boolean quiet;

  SpindleHome home() {
    return home != null ? new SpindleHome(home) : SpindleHome.fromEnvironment();
  }

  ImageStore images() {
    return new ImageStore(home());
  }

  /**
   * The image to mount or run: {@link ImageStore#locate}, then the node's signature policy
   * ({@code spindle key trust}): refused, saying which check failed, unless it is satisfied.
   */
  java.nio.file.Path usableImage(String tagOrFile) throws java.io.IOException {
    java.nio.file.Path p = images().locate(tagOrFile);
    dev.spindle.image.TrustedKeys.of(home()).require(p, "image '" + tagOrFile + "'");
    return p;
  }

  Progress progress() {
    return TerminalProgress.forTerminal(quiet);
  }
}
