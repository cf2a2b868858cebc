package dev.spindle.cli;

import dev.spindle.sandbox.Engine;
import picocli.CommandLine.Option;

/** {@code --engine}, the same in every command that runs guests; --help lists the values. */
final class EngineOption {
  @Option(
      names = "--engine",
      paramLabel = "ENGINE",
      defaultValue = "compiled",
      description =
          "Chicory engine: ${COMPLETION-CANDIDATES} (any case; default ${DEFAULT-VALUE}).")
  Engine engine;
}
