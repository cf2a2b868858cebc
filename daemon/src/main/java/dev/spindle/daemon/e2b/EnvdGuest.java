package dev.spindle.daemon.e2b;

import dev.spindle.daemon.ApiError;
import dev.spindle.daemon.NodeSandbox;
import dev.spindle.sandbox.python.EvalResult;
import java.nio.file.Path;
import java.util.Optional;

/** What envd needs of a sandbox: its writable tree and, in a Python sandbox, its interpreter. */
interface EnvdGuest {
  String id();

  /**
   * The host directory that is the sandbox's root ({@code /} in the guest), if it has a writable
   * tree.
   */
  Optional<Path> filesRoot();

  /**
   * Where the guest sees {@link #filesRoot()}: its {@code /}, unless a test mounts it elsewhere.
   */
  default EnvdPath filesMount() {
    return new EnvdPath(java.util.List.of());
  }

  boolean isPython();

  /** Who files created through envd belong to on the host (uid, gid); null: this process. */
  default int[] filesOwner() {
    return null;
  }

  /** A container sandbox's container, where commands run as processes ({@code runc exec}). */
  default Optional<ContainerSandboxes.Box> containerBox() {
    return Optional.empty();
  }

  /**
   * Evaluates code in the sandbox's interpreter; an {@link ApiError} when the sandbox cannot (dead,
   * limit hit).
   */
  EvalResult eval(String code);

  static EnvdGuest of(NodeSandbox g) {
    return new EnvdGuest() {
      @Override
      public String id() {
        return g.id;
      }

      @Override
      public Optional<Path> filesRoot() {
        return g.filesRoot();
      }

      @Override
      public boolean isPython() {
        return g.isPython();
      }

      @Override
      public EvalResult eval(String code) {
        return g.eval(code);
      }
    };
  }
}
