package dev.spindle.cli;

import dev.spindle.fork.Forks;
import dev.spindle.fork.Guest;
import dev.spindle.fork.SandboxSnapshot;
import dev.spindle.memory.PageCounts;
import dev.spindle.memory.PageTable;
import dev.spindle.sandbox.Engine;
import dev.spindle.store.Tag;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "branch",
    mixinStandardHelpOptions = true,
    description = {
      "Start N sandboxes from a snapshot, sharing every unwritten page.",
      "Makes the calls in each child (child by child), prints each child's output prefixed with",
      "its index, then the time to start all N and the bytes they share and hold alone."
    })
final class BranchCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Parameters(paramLabel = "TAG", description = "A snapshot tag.")
  String tag;

  @Option(
      names = "-n",
      paramLabel = "N",
      defaultValue = "1",
      description = "How many children (default 1).")
  int n;

  @Mixin EngineOption engine;

  @Mixin CallOptions calls;

  @Override
  public Integer call() throws Exception {
    if (n < 1) {
      throw new IllegalArgumentException("-n must be at least 1");
    }
    Engine e = engine.engine;
    try (Forks forks = new Forks(common.home())) {
      SandboxSnapshot s = forks.open(Tag.of(tag), b -> b.engine(e));
      forks.branch(s, 1).forEach(Guest::close); // compiles the module: not part of the timing
      long t0 = System.nanoTime();
      List<Guest> children = forks.branch(s, n);
      long started = System.nanoTime() - t0;
      long privateBytes = 0;
      for (int i = 0; i < children.size(); i++) {
        try (Guest g = children.get(i)) {
          calls.run(g, "[" + i + "] ", System.out);
          privateBytes += g.counts().privateBytes();
        }
      }
      PageCounts table = s.table().counts();
      long shared = (long) (table.sharedPages() + table.unloadedPages()) * PageTable.PAGE_SIZE;
      System.out.printf(
          "%d children started in %.3f ms (%.1f µs each); shared %s (once), "
              + "private %s in all (%s per child)%n",
          n,
          started / 1e6,
          started / 1e3 / n,
          bytes(shared),
          bytes(privateBytes),
          bytes(privateBytes / n));
    }
    return 0;
  }

  static String bytes(long b) {
    if (b < 1 << 20) {
      return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", b / (1024.0 * 1024));
  }
}
