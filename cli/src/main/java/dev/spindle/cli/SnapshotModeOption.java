package dev.spindle.cli;

import dev.spindle.fork.SnapshotMode;
import picocli.CommandLine.Option;

/** {@code --mode}: how a snapshot is taken, the same in every command that takes one. */
final class SnapshotModeOption {
  @Option(
      names = "--mode",
      paramLabel = "MODE",
      defaultValue = "full",
      description =
          "Snapshot mode: ${COMPLETION-CANDIDATES} (any case): full (written before returning) or"
              + " live (page table only, written in the background while the sandbox runs on)."
              + " Default: ${DEFAULT-VALUE}.")
  SnapshotMode mode;
}
