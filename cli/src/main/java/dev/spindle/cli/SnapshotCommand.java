package dev.spindle.cli;

import dev.spindle.fork.Forks;
import dev.spindle.fork.Guest;
import dev.spindle.fork.SandboxSnapshot;
import dev.spindle.fork.SnapshotMode;
import dev.spindle.memory.PageCounts;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.Tag;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "snapshot",
    mixinStandardHelpOptions = true,
    description =
        "Snapshots of reactor sandboxes (memory pages, globals, tables, WASI state, private files).",
    subcommands = {SnapshotCommand.Create.class, SnapshotCommand.History.class})
final class SnapshotCommand {
  private SnapshotCommand() {}

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = {
        "Start a reactor module, make the calls, then snapshot it as TAG.",
        "'full' returns when the snapshot is written; 'live' returns after the page table is",
        "taken (no page copied) and writes in the background (this command still waits for it",
        "before exiting)."
      })
  static final class Create implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(
        names = "--wasm",
        required = true,
        paramLabel = "PATH",
        description = "A reactor module (WASI).")
    Path wasm;

    @Option(
        names = {"-t", "--tag"},
        required = true,
        paramLabel = "TAG",
        description = "The snapshot's tag.")
    String tag;

    @Mixin SnapshotModeOption snapshotMode;

    @Mixin EngineOption engine;

    @Mixin CallOptions calls;

    @Override
    public Integer call() throws Exception {
      SnapshotMode m = snapshotMode.mode;
      Tag t = Tag.of(tag);
      Sandbox sandbox =
          Sandbox.builder(wasm).engine(engine.engine).memoryFactory(PagedMemory::new).build();
      try (Forks forks = new Forks(common.home().create());
          Guest g = forks.start(sandbox)) {
        calls.run(g, "", System.out);
        long t0 = System.nanoTime();
        SandboxSnapshot s = forks.snapshot(g, t, m);
        long returned = System.nanoTime() - t0;
        s.persisted().get();
        long written = System.nanoTime() - t0;
        PageCounts p = s.table().counts();
        System.out.printf(
            "snapshot %s (%s): %d pages, %d zero; returned in %.3f ms, written in %.1f ms%n",
            t.value(), m.json(), p.pages(), p.zeroPages(), returned / 1e6, written / 1e6);
      }
      return 0;
    }
  }

  @Command(
      name = "history",
      mixinStandardHelpOptions = true,
      description = {
        "Write snapshot TAG's files as Git history: a bare repository at DIR whose branch TAG",
        "holds one commit per snapshot of the chain (the snapshot, the one its sandbox was",
        "branched from, ...), each tree the sandbox's file view: one directory per guest path,",
        "an image directory as the image with the snapshot's writable layer applied (the images",
        "must still be in this node's store). Read it with plain git:",
        "git -C DIR log TAG, git -C DIR show TAG:home/user/f.txt, git clone DIR."
      })
  static final class History implements Callable<Integer> {
    @Mixin CommonOptions common;

    @picocli.CommandLine.Parameters(index = "0", paramLabel = "TAG")
    String tag;

    @Option(
        names = {"-o", "--output"},
        required = true,
        paramLabel = "DIR",
        description = "A new (or empty) directory for the repository.")
    Path out;

    @Override
    public Integer call() throws Exception {
      dev.spindle.fork.FilesHistory.Exported e =
          dev.spindle.fork.FilesHistory.export(common.home(), Tag.of(tag), out);
      System.out.printf(
          "%s: branch %s at %s, %d commits, %d objects%n",
          out, tag, e.commit(), e.commits(), e.objects());
      return 0;
    }
  }
}
