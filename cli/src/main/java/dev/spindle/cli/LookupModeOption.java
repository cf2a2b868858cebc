package dev.spindle.cli;

import dev.spindle.image.AccessMode;
import picocli.CommandLine.Option;

/**
 * {@code --mode}: how an opened image finds a path, the same in every command; --help lists them.
 */
final class LookupModeOption {
  @Option(
      names = "--mode",
      paramLabel = "MODE",
      defaultValue = "indexed",
      description =
          "Path lookups: ${COMPLETION-CANDIDATES} (any case): indexed (path index) or lazy (walk"
              + " trees). Default: ${DEFAULT-VALUE}.")
  AccessMode mode;
}
