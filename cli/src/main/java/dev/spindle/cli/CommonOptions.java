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

  @Option(
      names = {"-q", "--quiet"},
      description = "No progress bars.")
  boolean quiet;

  SpindleHome home() {
    return home != null ? new SpindleHome(home) : SpindleHome.fromEnvironment();
  }

  ImageStore images() {
    return new ImageStore(home());
  }

  Progress progress() {
    return TerminalProgress.forTerminal(quiet);
  }
}
