package dev.spindle.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.fork.Forks;
import dev.spindle.fork.Guest;
import dev.spindle.fork.SandboxSnapshot;
import dev.spindle.fork.SnapshotMode;
import dev.spindle.memory.PageCounts;
import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.SpindleCache;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The branch benchmark ({@code bench/branch}): a C reactor guest ({@code
 * sandbox/src/test/c/warm.c}) warmed with a hash map and 64 MiB or 1 GiB of touched memory, then
 * branched N = 1, 10, 100, 1000 times from a snapshot held in memory, beside a cold start of the
 * same guest (instantiate the already-compiled module, run {@code _initialize}, warm it up) and
 * beside wasmtime instantiating a module whose memory is the same bytes as one data segment with
 * {@code memory_init_cow} (the Wizer path; docs/PLATFORM-FACTS.md), all in one run. Also: private
 * bytes per child before and after a small write, the live-snapshot pause (p50, p99) while the
 * parent keeps writing between snapshots, and full-snapshot throughput. Before timing, the branch
 * and snapshot paths are warmed up on a small guest (4,000 branches, 300 live snapshots), as in a
 * long-running host.
 *
 * <p>Usage: {@code bench/branch [--sizes 64,1024] [--venv DIR]}; prints Markdown tables.
 */
public final class BranchBench {
  private static final int ENTRIES = 100_000;
  private static final int[] COUNTS = {1, 10, 100, 1000};

  private final Path work;
  private final Path python;
  private final Sandbox sandbox;
  private final Table branch =
      new Table(
          "memory",
          "N",
          "spindle branch",
          "per child",
          "cold start × N",
          "cold/branch",
          "wasmtime CoW",
          "spindle/wasmtime");
  private final Table memory =
      new Table(
          "memory",
          "private per child, no write",
          "after one 8-byte write",
          "page table per child",
          "wasmtime after one write");
  private final Table snapshots =
      new Table(
          "memory",
          "live pause p50",
          "live pause p99",
          "pause CPU p50",
          "samples",
          "full snapshot",
          "full GB/s",
          "wasmtime: module from memory + compile",
          "first instance");
  private final List<String> notes = new ArrayList<>();

  private BranchBench(Path work, Path python, byte[] wasm) {
    this.work = work;
    this.python = python;
    this.sandbox = Sandbox.builder(wasm).memoryFactory(PagedMemory::new).build();
  }

  public static void main(String[] args) throws Exception {
    int[] sizes = {64, 1024};
    Path venv = SpindleCache.root().resolve("venv");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--sizes" ->
            sizes = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--venv" -> venv = Path.of(args[++i]);
        default -> {
          System.err.println("usage: bench/branch [--sizes 64,1024] [--venv DIR]");
          System.exit(2);
        }
      }
    }
    Path repo = Path.of(System.getProperty("spindle.repo", "."));
    Path work = Files.createTempDirectory("spindle-branch-bench");
    try {
      byte[] wasm = compileGuest(repo.resolve("sandbox/src/test/c/warm.c"), work);
      Path py = venv.resolve("bin/python");
      BranchBench b = new BranchBench(work, Files.isExecutable(py) ? py : null, wasm);
      b.warmUp();
      for (int mib : sizes) {
        b.run(mib);
      }
      b.print();
    } finally {
      Trees.delete(work);
    }
  }

  static byte[] compileGuest(Path source, Path work) throws IOException, InterruptedException {
    Path out = work.resolve("warm.wasm");
    Cmd.run(
        work,
        List.of(
            "clang",
            "--target=wasm32-wasi",
            "-O2",
            "-g0",
            "-mexec-model=reactor",
            "-o",
            out.toString(),
            source.toAbsolutePath().toString()));
    return Files.readAllBytes(out);
  }

  /** Compiles the module and lets the JIT see the branch path before anything is timed. */
  private void warmUp() throws Exception {
    try (Forks forks = new Forks(new SpindleHome(work.resolve("warmup")));
        Guest g = forks.start(sandbox)) {
      g.call("warm", 1000);
      g.call("touch", 1);
      SandboxSnapshot s = forks.snapshot(g, Tag.of("w"), SnapshotMode.LIVE);
      for (int round = 0; round < 40; round++) {
        forks
            .branch(s, 100)
            .forEach(
                c -> {
                  c.call("tick");
                  c.close();
                });
      }
      s.persisted().get();
      // The snapshot path too: a long-running host has it compiled, a fresh JVM interprets it.
      for (int i = 0; i < 300; i++) {
        g.call("poke", i, i);
        SandboxSnapshot x = forks.snapshot(g, Tag.of("x" + i), SnapshotMode.LIVE);
        x.persisted().get();
        forks.release(x.tag());
        forks.store().delete(x.tag());
      }
    }
  }

  private Guest coldStart(Forks forks, int mib) throws IOException {
    Guest g = forks.start(sandbox);
    g.call("warm", ENTRIES);
    if (g.call("touch", mib)[0] < 0) {
      throw new IllegalStateException("guest could not allocate " + mib + " MiB");
    }
    return g;
  }

  private void run(int mib) throws Exception {
    String label = mib >= 1024 ? (mib / 1024) + " GiB" : mib + " MiB";
    Path home = work.resolve("home-" + mib);
    try (Forks forks = new Forks(new SpindleHome(home))) {
      long t0 = System.nanoTime();
      Guest parent = coldStart(forks, mib);
      long cold = System.nanoTime() - t0;
      if (mib <= 256) { // a second and third cold start: the median of three
        long[] colds = {cold, 0, 0};
        for (int i = 1; i < 3; i++) {
          long c0 = System.nanoTime();
          coldStart(forks, mib).close();
          colds[i] = System.nanoTime() - c0;
        }
        Arrays.sort(colds);
        cold = colds[1];
      }
      long wantSum = parent.call("checksum")[0];

      // Full snapshot: persisted before the call returns (pages hashed and written, fsync).
      long f0 = System.nanoTime();
      SandboxSnapshot full = forks.snapshot(parent, Tag.of("full"), SnapshotMode.FULL);
      long fullNanos = System.nanoTime() - f0;
      PageCounts table = full.table().counts();
      long bytes = (long) table.pages() * PageTable.PAGE_SIZE;
      Path image = forks.store().directory(Tag.of("full")).resolve("memory.bin");

      // Live snapshots: the parent writes a few pages between snapshots, as a running guest does.
      int samples = mib <= 256 ? 41 : 11;
      long[] pauses = new long[samples];
      long[] pauseCpu = new long[samples];
      java.lang.management.ThreadMXBean threads =
          java.lang.management.ManagementFactory.getThreadMXBean();
      Random r = new Random(1);
      SandboxSnapshot live = null;
      for (int i = 0; i < samples; i++) {
        for (int w = 0; w < 8; w++) {
          parent.call("poke", r.nextInt(1 << 30), i);
        }
        Tag tag = Tag.of("live" + i);
        long c0 = threads.getCurrentThreadCpuTime();
        long p0 = System.nanoTime();
        SandboxSnapshot s = forks.snapshot(parent, tag, SnapshotMode.LIVE);
        pauses[i] = System.nanoTime() - p0;
        pauseCpu[i] = threads.getCurrentThreadCpuTime() - c0;
        s.persisted().get();
        if (live != null) {
          forks.release(live.tag());
          try {
            forks.store().delete(live.tag());
          } catch (dev.spindle.fork.SnapshotInUseException e) {
            // the next live snapshot reads its unchanged pages through it (incremental): kept
          }
        }
        live = s;
      }
      Arrays.sort(pauses);
      Arrays.sort(pauseCpu);

      // Branch from the last live snapshot, in memory.
      long[] branchNanos = new long[COUNTS.length];
      long privateBefore = -1;
      long privateAfter = -1;
      long tableBefore = -1;
      long tableAfter = -1;
      for (int k = 0; k < COUNTS.length; k++) {
        int n = COUNTS[k];
        int runs = n <= 100 ? 5 : 2;
        long best = Long.MAX_VALUE;
        for (int run = 0; run < runs; run++) {
          long b0 = System.nanoTime();
          List<Guest> children = forks.branch(live, n);
          best = Math.min(best, System.nanoTime() - b0);
          if (n == 100 && run == 0) {
            long sum = 0;
            long tables = 0;
            for (Guest c : children) {
              sum += c.counts().privateBytes();
              tables += c.tableBytes();
            }
            privateBefore = sum / n;
            tableBefore = tables / n;
            Guest c = children.get(n / 2);
            c.call("poke", 12345, 1);
            privateAfter = c.counts().privateBytes();
            tableAfter = c.tableBytes();
            if (c.call("checksum")[0] != wantSum) {
              throw new IllegalStateException("a child lost the warm state");
            }
          }
          children.forEach(Guest::close);
        }
        branchNanos[k] = best;
      }
      parent.close();

      JsonNode peer = wasmtime(image);
      for (int k = 0; k < COUNTS.length; k++) {
        int n = COUNTS[k];
        double coldN = (double) cold * n;
        Double w =
            peer == null ? null : peer.get("branch_s").get(Integer.toString(n)).asDouble() * 1e9;
        branch.row(
            label,
            n,
            ms(branchNanos[k]),
            us(branchNanos[k] / (double) n),
            ms(coldN),
            String.format("%.0fx", coldN / branchNanos[k]),
            w == null ? "skipped" : ms(w),
            w == null ? "n/a" : Table.ratio(branchNanos[k], w));
      }
      // The table a child holds alone (PagedMemory.tableBytes): before a write, then after the one
      // 8-byte write of the column before.
      memory.row(
          label,
          kib(privateBefore),
          kib(privateAfter),
          kib(tableBefore) + " (" + kib(tableAfter) + " after the write)",
          peer == null ? "skipped" : "4 KiB (kernel page)");
      snapshots.row(
          label,
          us(pauses[samples / 2]),
          us(pauses[(int) Math.ceil(samples * 0.99) - 1]),
          us(pauseCpu[samples / 2]),
          samples,
          ms(fullNanos),
          String.format("%.2f", bytes / (double) fullNanos),
          peer == null ? "skipped" : ms(peer.get("module_build_s").asDouble() * 1e9),
          peer == null ? "skipped" : ms(peer.get("first_instantiate_s").asDouble() * 1e9));
      notes.add(
          label
              + ": cold start (instantiate + _initialize + warm("
              + ENTRIES
              + ") + touch) "
              + ms(cold)
              + "; "
              + table.pages()
              + " pages, "
              + table.zeroPages()
              + " zero");
    }
    Trees.delete(home);
  }

  /** wasmtime's numbers for the same memory image, or null (with a note) if it cannot run. */
  private JsonNode wasmtime(Path image) throws IOException, InterruptedException {
    if (python == null) {
      notes.add(
          "wasmtime skipped: no venv with the wasmtime package (bench/branch installs it with pip)");
      return null;
    }
    Path script = Path.of(System.getProperty("spindle.repo", "."), "bench", "wasmtime_branch.py");
    List<String> cmd =
        new ArrayList<>(List.of(python.toString(), script.toString(), image.toString()));
    Arrays.stream(COUNTS).forEach(n -> cmd.add(Integer.toString(n)));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      notes.add("wasmtime failed: " + out.strip().lines().reduce((a, b) -> b).orElse(""));
      return null;
    }
    return new ObjectMapper().readTree(out.strip().lines().reduce((a, b) -> b).orElseThrow());
  }

  private void print() {
    System.out.println("## Branch N children vs cold start vs wasmtime (memory_init_cow)\n");
    System.out.println(branch.render());
    System.out.println("## Memory per child\n");
    System.out.println(memory.render());
    System.out.println("## Snapshots\n");
    System.out.println(snapshots.render());
    System.out.println(
        "Targets: 100 children from a 1 GiB parent <= 10 ms and <= 1x wasmtime, 1,000 <= 1.5x"
            + " wasmtime; <= 64 KiB private and <= 4 KiB of page table per child before writes; live pause"
            + " <= 1 ms at 1 GiB; full snapshot >= 2 GB/s.");
    System.out.println(
        "- cold start × N: one cold start (median of three up to 256 MiB) times N;"
            + " branch: the best of 5 runs (2 for N = 1000), children closed between runs");
    notes.forEach(n -> System.out.println("- " + n));
    System.out.println(
        "- pause CPU: the snapshotting thread's CPU time (wall time minus preemption on a"
            + " shared machine); load average at the end: "
            + String.format(
                "%.1f",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                    .getSystemLoadAverage())
            + " on "
            + Runtime.getRuntime().availableProcessors()
            + " cores");
  }

  private static String ms(double nanos) {
    return String.format("%.2f ms", nanos / 1e6);
  }

  private static String us(double nanos) {
    return String.format("%.1f µs", nanos / 1e3);
  }

  private static String kib(long bytes) {
    return String.format("%.1f KiB", bytes / 1024.0);
  }
}
