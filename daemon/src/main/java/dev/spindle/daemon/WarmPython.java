package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.fork.Forks;
import dev.spindle.fork.SandboxSnapshot;
import dev.spindle.fork.SnapshotMode;
import dev.spindle.fork.SnapshotStatus;
import dev.spindle.sandbox.python.EvalResult;
import dev.spindle.sandbox.python.PythonModule;
import dev.spindle.sandbox.python.PythonRuntime;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The node's warm CPython: booted and set up once (seconds), kept as a snapshot under the home, and
 * branched for every Python sandbox (milliseconds). The snapshot's tag names the module's and
 * {@code guest.py}'s hashes ({@code runtime-python-<module>-<guest>-root}; "root": its files are a
 * private tree at {@code /}, see {@link #boot}), since the set-up interpreter holds both in its
 * memory: a node that restarts with the same pair branches the snapshot it made before; another
 * pair makes its own. It is a catalog row like any snapshot (listed, verified at start-up,
 * deletable: the next Python sandbox then boots a new one), in the node's own tag prefix, which no
 * client can claim.
 */
final class WarmPython {
  /** The node's own work, not a client's: a boot is not held to request limits. */
  private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(3);

  private final Forks forks;
  private final Catalog catalog;
  private final Tag tag;

  /** The snapshot, once made or opened; guarded by {@code this}. */
  private SandboxSnapshot snapshot;

  WarmPython(Forks forks, Catalog catalog) {
    this.forks = forks;
    this.catalog = catalog;
    this.tag =
        Tag.of(
            Catalog.RUNTIME_PREFIX
                + "python-"
                + PythonModule.SHA256.substring(0, 16)
                + "-"
                + PythonRuntime.guestSha256().substring(0, 8)
                + "-root");
  }

  static boolean isPython(String moduleSha256) {
    return PythonModule.SHA256.equals(moduleSha256);
  }

  Tag tag() {
    return tag;
  }

  /**
   * The warm snapshot: the one this process holds, else the persisted one (after a restart), else a
   * new one booted now. Callers wait while it boots (one at a time). The catalog is the truth: a
   * deleted row means boot again.
   */
  synchronized SandboxSnapshot snapshot() throws IOException {
    ImageInfo row = catalog.find(tag.value()).orElse(null);
    if (row != null && Catalog.SNAPSHOT.equals(row.kind()) && row.ready()) {
      if (snapshot == null) {
        snapshot = forks.open(tag);
      }
      return snapshot;
    }
    if (snapshot != null) {
      forks.release(tag);
      snapshot = null;
    }
    if (row != null) {
      // Failed (damaged files, an interrupted boot): its files go, but not the snapshots made from
      // its branches. Those that read pages through it (incremental) are compacted first, so they
      // stand alone; one that cannot be (it needs a damaged page) is marked failed, naming why.
      for (Tag dependent : catalog.snapshots().dependents(tag)) {
        try {
          catalog.snapshots().compact(dependent);
        } catch (IOException | RuntimeException e) {
          catalog.fail(
              dependent.value(),
              "damaged: its base "
                  + tag.value()
                  + " failed and it could not be"
                  + " made whole: "
                  + e.getMessage());
        }
      }
      catalog.snapshots().delete(tag, true);
      catalog.release(tag.value());
    }
    snapshot = boot();
    return snapshot;
  }

  private SandboxSnapshot boot() throws IOException {
    String source = "runtime:python " + PythonRuntime.ARTIFACT;
    catalog.claimRuntime(
        Catalog.row(tag.value(), Catalog.SNAPSHOT, SnapshotStatus.WRITING, source, null, null));
    try {
      SandboxSnapshot s;
      // Its file tree is a private directory at '/': the snapshot records a copy, and every
      // Python sandbox (a branch) gets its own writable copy of that, which Python's open() sees.
      Path root = forks.privateRoot(List.of("home/user", "tmp"));
      try (dev.spindle.fork.Guest parent =
          forks.start(PythonRuntime.sandboxAtRoot(root).timeout(BOOT_TIMEOUT).build())) {
        PythonRuntime py = PythonRuntime.setupAtRoot(parent.reactor(), root);
        // The environment was fixed when the module was pre-initialised: HOME and the working
        // directory are set in the interpreter (where E2B-style clients expect them).
        EvalResult home =
            py.eval(
                "import os\nos.environ['HOME'] = '/home/user'\nos.chdir('/home/user')",
                "<spindle>");
        if (!home.ok()) {
          throw new IOException(
              "cannot set up /home/user in the warm interpreter: " + home.error().message());
        }
        // The first exception a sandbox formats loads and runs traceback's machinery (linecache,
        // tokenize, their regular expressions): seconds in the interpreter, paid by every sandbox
        // unless it is done once here, before the snapshot.
        EvalResult raised = py.eval("1/0", "<spindle>");
        if (raised.ok() || !"ZeroDivisionError".equals(raised.error().type())) {
          throw new IOException("the warm interpreter did not format an exception: " + raised);
        }
        s = forks.snapshot(parent, tag, SnapshotMode.FULL);
      }
      catalog.settle(
          new ImageInfo(
              tag.value(),
              Catalog.SNAPSHOT,
              "ready",
              source,
              null,
              null,
              null,
              null,
              null,
              null,
              Instant.now().toString(),
              null,
              null));
      return s;
    } catch (IOException | RuntimeException e) {
      forks.release(tag);
      catalog.fail(tag.value(), "booting the warm Python interpreter failed: " + e.getMessage());
      throw e;
    }
  }
}
