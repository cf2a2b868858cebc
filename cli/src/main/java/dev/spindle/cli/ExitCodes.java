package dev.spindle.cli;

import dev.spindle.sandbox.SandboxLimitException;

/** The exit codes of a command that runs a guest when the guest did not choose one itself. */
final class ExitCodes {
  static final int TIMEOUT = 124; // as coreutils timeout(1)
  static final int MEMORY = 125;
  static final int OUTPUT = 123;
  static final int TRAP = 134; // 128 + SIGABRT, as a native program that aborts

  private ExitCodes() {}

  /** The exit code of a guest stopped at {@code limit}. */
  static int of(SandboxLimitException.Limit limit) {
    return switch (limit) {
      case TIMEOUT -> TIMEOUT;
      case MEMORY -> MEMORY;
      case OUTPUT -> OUTPUT;
    };
  }
}
