package dev.spindle.bench;

import dev.spindle.fork.Forks;
import dev.spindle.fork.Guest;
import dev.spindle.fork.SandboxSnapshot;
import dev.spindle.fork.SnapshotMode;
import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.BackgroundThreads;
import dev.spindle.store.Hashes;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The snapshot benchmark ({@code bench/snapshot}): the warm C guest ({@code warm.c}) with 1 GiB
 * touched, then, in one run and on each target (the disk under {@code java.io.tmpdir}, and tmpfs at
 * {@code /dev/shm} when present):
 *
 * <ul>
 *   <li>a full snapshot (every page hashed for the first time, written, fsynced) beside {@code dd
 *       if=/dev/zero bs=4M conv=fsync} of the same size into the same directory;
 *   <li>an incremental snapshot of a branch of it that wrote 1% of its pages (and 10%), against the
 *       full snapshot's time;
 *   <li>the live-snapshot pause (p50, p99, max) over many samples while the parent writes a few
 *       pages between snapshots.
 * </ul>
 *
 * <p>Usage: {@code bench/snapshot [--mib 1024] [--samples 200] [--targets disk,tmpfs]}.
 */
public final class SnapshotBench {
  private static final int PAGE = PageTable.PAGE_SIZE;

  private final Sandbox sandbox;
  private final Table full =
      new Table(
          "target",
          "memory",
          "full snapshot",
          "full GB/s",
          "dd conv=fsync",
          "dd GB/s",
          "full/dd speed",
          "SHA-256 GB/s, 1 thread",
          "hash-bound GB/s (all cores)");
  private final Table incremental =
      new Table(
          "target",
          "branch wrote",
          "pages written",
          "incremental snapshot (median of " + INCREMENTAL_RUNS + ")",
          "full snapshot",
          "incremental/full");
  private final Table pauses =
      new Table(
          "memory",
          "writer priority",
          "live pause p50",
          "p90",
          "p99",
          "max",
          "samples",
          "pause CPU p50",
          "CPU p99",
          "pauses > 2 ms: preempted / all");
  private final List<String> notes = new ArrayList<>();

  private SnapshotBench(byte[] wasm) {
    this.sandbox = Sandbox.builder(wasm).memoryFactory(PagedMemory::new).build();
  }

  public static void main(String[] args) throws Exception {
    int mib = 1024;
    int samples = 200;
    List<String> targets = List.of("disk", "tmpfs");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--mib" -> mib = Integer.parseInt(args[++i]);
        case "--samples" -> samples = Integer.parseInt(args[++i]);
        case "--targets" ->
            targets = args[++i].equals("none") ? List.of() : List.of(args[i].split(","));
        default -> {
          System.err.println(
              "usage: bench/snapshot [--mib 1024] [--samples 200] [--targets disk,tmpfs]");
          System.exit(2);
        }
      }
    }
    Path repo = Path.of(System.getProperty("spindle.repo", "."));
    Path work = Files.createTempDirectory("spindle-snapshot-bench");
    try {
      byte[] wasm = BranchBench.compileGuest(repo.resolve("sandbox/src/test/c/warm.c"), work);
      SnapshotBench b = new SnapshotBench(wasm);
      b.warmUp(work);
      for (String t : targets) {
        Path dir =
            switch (t) {
              case "disk" -> work;
              case "tmpfs" -> Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : null;
              default ->
                  throw new IllegalArgumentException("unknown target " + t + " (disk, tmpfs)");
            };
        if (dir == null) {
          b.notes.add("tmpfs skipped: no /dev/shm");
          continue;
        }
        Path home = Files.createTempDirectory(dir, "spindle-snapshot-bench-");
        try {
          b.snapshots(t, home, mib);
        } finally {
          Trees.delete(home);
        }
      }
      // The writer at normal priority first (the baseline: how it ran before), then as shipped.
      b.pauses(work, mib, samples, "normal");
      b.pauses(work, mib, samples, "background");
      b.print();
    } finally {
      Trees.delete(work);
    }
  }

  /** Lets the JIT see the snapshot paths before anything is timed. */
  private void warmUp(Path work) throws Exception {
    try (Forks forks = new Forks(new SpindleHome(work.resolve("warmup")));
        Guest g = forks.start(sandbox)) {
      g.call("warm", 1000);
      g.call("touch", 16);
      for (int i = 0; i < 100; i++) {
        g.call("poke", i * 8192L, i);
        SandboxSnapshot x =
            forks.snapshot(g, Tag.of("x" + i), i % 2 == 0 ? SnapshotMode.LIVE : SnapshotMode.FULL);
        x.persisted().get();
      }
    }
    Trees.delete(work.resolve("warmup"));
  }

  private Guest parent(Forks forks, int mib) throws Exception {
    Guest g = forks.start(sandbox);
    g.call("warm", 100_000);
    if (g.call("touch", mib)[0] < 0) {
      throw new IllegalStateException("guest could not allocate " + mib + " MiB");
    }
    return g;
  }

  private void snapshots(String target, Path home, int mib) throws Exception {
    String label = mib >= 1024 ? (mib / 1024) + " GiB" : mib + " MiB";
    try (Forks forks = new Forks(new SpindleHome(home))) {
      Guest parent = parent(forks, mib);
      long f0 = System.nanoTime();
      SandboxSnapshot s = forks.snapshot(parent, Tag.of("full"), SnapshotMode.FULL);
      long fullNanos = System.nanoTime() - f0;
      long bytes = (long) s.table().pages() * PAGE;
      double dd = dd(home, bytes);
      double sha = sha256Rate();
      full.row(
          target,
          label,
          ms(fullNanos),
          gbs(bytes, fullNanos),
          ms(dd),
          gbs(bytes, dd),
          String.format("%.2fx", dd / fullNanos),
          String.format("%.2f", sha),
          String.format("%.2f", sha * Runtime.getRuntime().availableProcessors()));
      parent.close();

      int pages = s.table().pages();
      notes.add(target + ": " + pages + " pages, " + s.table().counts().zeroPages() + " zero");
      for (int percent : new int[] {1, 10}) {
        // The median of a few branches, each snapshotted once: one shot was a single number
        // from whatever else the machine did in those milliseconds.
        long[] runs = new long[INCREMENTAL_RUNS];
        int written = 0;
        for (int run = 0; run < runs.length; run++) {
          try (Guest child = forks.branch(s, 1).getFirst()) {
            // One 8-byte write in each of percent% of the touched region's pages, spread evenly.
            int touchedPages = (int) ((long) mib * (1 << 20) / PAGE);
            int writes = Math.max(1, touchedPages * percent / 100);
            int step = touchedPages / writes;
            for (int w = 0; w < writes; w++) {
              child.call("poke", (long) w * step * (PAGE / 8), w + run + 1);
            }
            Tag tag = Tag.of("inc" + percent + "-" + run);
            long i0 = System.nanoTime();
            forks.snapshot(child, tag, SnapshotMode.FULL);
            runs[run] = System.nanoTime() - i0;
            try (var files = forks.store().open(tag)) {
              written =
                  files.pages() - files.inheritedPages() - files.state().get("zero_pages").asInt();
            }
          }
        }
        Arrays.sort(runs);
        long incNanos = runs[runs.length / 2];
        incremental.row(
            target,
            percent + "% of pages",
            written,
            ms(incNanos),
            ms(fullNanos),
            String.format("%.1f%%", 100.0 * incNanos / fullNanos));
      }
    }
  }

  /**
   * SHA-256 of 256 MiB of 64 KiB pages on this thread, in GB/s: what hashing a memory the first
   * time costs per core (the JDK's intrinsic, SHA-NI where the CPU has it).
   */
  private static double sha256Rate() throws Exception {
    byte[] page = new byte[PAGE];
    new Random(3).nextBytes(page);
    java.security.MessageDigest d = Hashes.sha256();
    int n = 4096;
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      page[0] = (byte) i;
      d.digest(page);
    }
    return (double) n * PAGE / (System.nanoTime() - t0);
  }

  /**
   * Nanoseconds for dd to write {@code bytes} of zeros into {@code dir} with an fsync at the end.
   */
  private static double dd(Path dir, long bytes) throws Exception {
    Path out = dir.resolve("dd.bin");
    long t0 = System.nanoTime();
    Process p =
        new ProcessBuilder(
                "dd", "if=/dev/zero", "of=" + out, "bs=4M", "count=" + (bytes >> 22), "conv=fsync")
            .redirectErrorStream(true)
            .start();
    p.getInputStream().readAllBytes();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("dd failed");
    }
    long t = System.nanoTime() - t0;
    Files.delete(out);
    return t;
  }

  /** Branches snapshotted per row of the incremental table (the median is shown). */
  private static final int INCREMENTAL_RUNS = 5;

  /** Live snapshots taken and not counted at the start of each pause pass. */
  private static final int WARMUP = 150;

  private void pauses(Path work, int mib, int samples, String priority) throws Exception {
    String label = mib >= 1024 ? (mib / 1024) + " GiB" : mib + " MiB";
    // Read by each writer thread as it starts: this pass's store starts its own.
    System.setProperty(BackgroundThreads.PRIORITY_PROPERTY, priority);
    Path home = work.resolve("home-pauses");
    java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    try (Forks forks = new Forks(new SpindleHome(home));
        Guest parent = parent(forks, mib)) {
      forks.snapshot(parent, Tag.of("base"), SnapshotMode.FULL);
      long[] wall = new long[samples];
      long[] cpu = new long[samples];
      Random r = new Random(1);
      SandboxSnapshot last = null;
      int slow = 0;
      int preempted = 0;
      // The first WARMUP snapshots of each pass are not counted: both passes (whichever runs
      // first) measure a compiled snapshot path.
      for (int i = -WARMUP; i < samples; i++) {
        for (int w = 0; w < 8; w++) {
          parent.call("poke", r.nextInt(1 << 30), i);
        }
        long switches = involuntarySwitches();
        long c0 = threads.getCurrentThreadCpuTime();
        long p0 = System.nanoTime();
        SandboxSnapshot s =
            forks.snapshot(parent, Tag.of("live" + (i + WARMUP)), SnapshotMode.LIVE);
        long wallNs = System.nanoTime() - p0;
        long cpuNs = threads.getCurrentThreadCpuTime() - c0;
        if (i < 0) {
          s.persisted().get();
          forks.release(s.tag());
          continue;
        }
        wall[i] = wallNs;
        cpu[i] = cpuNs;
        if (wall[i] > 2_000_000) {
          slow++;
          if (involuntarySwitches() > switches) {
            preempted++; // the kernel took the CPU from this thread during the pause
          }
        }
        s.persisted().get();
        if (last != null) {
          forks.release(last.tag());
          try {
            forks.store().delete(last.tag());
          } catch (java.io.IOException e) {
            // the next snapshot reads through it (incremental): kept, a few pages on disk
          }
        }
        last = s;
      }
      Arrays.sort(wall);
      Arrays.sort(cpu);
      pauses.row(
          label,
          priority,
          us(wall[samples / 2]),
          us(wall[(int) Math.ceil(samples * 0.9) - 1]),
          us(wall[(int) Math.ceil(samples * 0.99) - 1]),
          us(wall[samples - 1]),
          samples,
          us(cpu[samples / 2]),
          us(cpu[(int) Math.ceil(samples * 0.99) - 1]),
          preempted + " / " + slow);
    }
    Trees.delete(home);
  }

  /**
   * This thread's involuntary context switches so far (Linux): each is a time the kernel took its
   * CPU for another thread while it could still run; -1 where /proc does not say.
   */
  private static long involuntarySwitches() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
        if (line.startsWith("nonvoluntary_ctxt_switches:")) {
          return Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  private void print() {
    System.out.println(
        "## Full snapshot against dd conv=fsync (same size, same directory, same run)\n");
    System.out.println(full.render());
    System.out.println("## Incremental snapshot of a branch\n");
    System.out.println(incremental.render());
    System.out.println("## Live snapshot pause\n");
    System.out.println(pauses.render());
    System.out.println(
        "Targets: full >= 0.9x dd and >= 2 GB/s on tmpfs; incremental of a 1 GiB branch that wrote"
            + " 1% <= 5% of a full snapshot; live pause p99 <= 2 ms at 1 GiB.");
    notes.forEach(n -> System.out.println("- " + n));
    System.out.println(
        "- load average at the end: "
            + String.format(
                "%.1f",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                    .getSystemLoadAverage())
            + " on "
            + Runtime.getRuntime().availableProcessors()
            + " cores; JVM: "
            + String.join(
                " ",
                java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
  }

  private static String ms(double nanos) {
    return String.format("%.2f ms", nanos / 1e6);
  }

  private static String us(double nanos) {
    return String.format("%.1f µs", nanos / 1e3);
  }

  private static String gbs(long bytes, double nanos) {
    return String.format("%.2f", bytes / nanos);
  }
}
