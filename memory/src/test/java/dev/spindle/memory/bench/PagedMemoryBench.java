package dev.spindle.memory.bench;

import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.memory.PagedMemory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * {@link PagedMemory} beside Chicory's {@link ByteArrayMemory}, printed as a table of ratios
 * (target: paged at most 1.5x the built-in one). A plain harness, not a test and not JMH: each
 * implementation runs in its own JVM so that every {@code Memory} call site stays monomorphic, as
 * it is in a sandbox; the two JVMs alternate {@value #ROUNDS} times, each workload is warmed up
 * then timed {@value #RUNS} times, and the fastest run is kept: the machines have 2 cores shared
 * with other work, and the minimum is the figure least disturbed by it.
 *
 * <p>Workloads on a 16 MiB memory (256 pages): sequential i32 writes then reads, random i64 reads
 * and writes, sequential byte reads, 1 MiB {@code copy}, the first write to each page after a
 * snapshot (copy-on-write; on {@code ByteArrayMemory} a plain write), and the C guest's {@code
 * work} in Chicory's compiled mode.
 *
 * <p>Run: {@code mvn -q -pl memory test-compile dependency:build-classpath
 * -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test} then {@code java -cp
 * memory/target/test-classes:memory/target/classes:$(cat /tmp/cp.txt)
 * dev.spindle.memory.bench.PagedMemoryBench}.
 */
public final class PagedMemoryBench {
  private static final int PAGES = 256;
  private static final int BYTES = PAGES * Memory.PAGE_SIZE;
  private static final int RUNS = 15;
  private static final int ROUNDS = 3;
  private static final int WARMUP = 10;
  private static final int RANDOM_OPS = 1 << 22;

  private static volatile long sink;

  private PagedMemoryBench() {}

  /** The memory under test: the table's two columns. */
  enum Impl {
    BYTE_ARRAY(ByteArrayMemory::new),
    PAGED(PagedMemory::new);

    final Function<MemoryLimits, Memory> factory;

    Impl(Function<MemoryLimits, Memory> factory) {
      this.factory = factory;
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 1) {
      measure(Impl.valueOf(args[0]));
      return;
    }
    Map<String, double[]> table = new LinkedHashMap<>();
    for (int round = 0; round < ROUNDS; round++) {
      for (Impl impl : Impl.values()) {
        for (String line : runInChildJvm(impl)) {
          String[] f = line.split("\t");
          double[] t =
              table.computeIfAbsent(f[0], k -> new double[] {Double.MAX_VALUE, Double.MAX_VALUE});
          t[impl.ordinal()] = Math.min(t[impl.ordinal()], Double.parseDouble(f[1]));
        }
      }
    }
    System.out.printf(
        "%-34s %14s %14s %7s%n", "workload (ns per op)", "ByteArrayMemory", "PagedMemory", "ratio");
    table.forEach(
        (name, t) ->
            System.out.printf("%-34s %14.2f %14.2f %7.2f%n", name, t[0], t[1], t[1] / t[0]));
  }

  private static List<String> runInChildJvm(Impl impl) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-Xmx1g",
                "-cp",
                System.getProperty("java.class.path"),
                PagedMemoryBench.class.getName(),
                impl.name())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    List<String> lines = new ArrayList<>();
    try (var r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        lines.add(line);
      }
    }
    if (p.waitFor() != 0) {
      throw new IllegalStateException(impl + " run failed");
    }
    return lines;
  }

  /** Prints "workload TAB ns-per-op" lines for one implementation. */
  private static void measure(Impl impl) throws IOException {
    Memory m = impl.factory.apply(new MemoryLimits(PAGES, PAGES));
    int[] addrs = new SplittableRandom(42).ints(RANDOM_OPS, 0, BYTES - 8).toArray();
    report("sequential i32 write", BYTES / 4, () -> seqWrite(m));
    report("sequential i32 read", BYTES / 4, () -> seqRead(m));
    report("sequential byte read", BYTES, () -> byteRead(m));
    report("random i64 read", RANDOM_OPS, () -> randomRead(m, addrs));
    report("random i64 write", RANDOM_OPS, () -> randomWrite(m, addrs));
    report("copy 1 MiB (per byte)", 16L << 20, () -> bulkCopy(m));
    report("first write per page after snapshot", PAGES, () -> firstWrites(m));
    guest(impl);
  }

  private static void seqWrite(Memory m) {
    for (int a = 0; a < BYTES; a += 4) {
      m.writeI32(a, a);
    }
  }

  private static void seqRead(Memory m) {
    long s = 0;
    for (int a = 0; a < BYTES; a += 4) {
      s += m.readInt(a);
    }
    sink = s;
  }

  private static void byteRead(Memory m) {
    long s = 0;
    for (int a = 0; a < BYTES; a++) {
      s += m.read(a);
    }
    sink = s;
  }

  private static void randomRead(Memory m, int[] addrs) {
    long s = 0;
    for (int a : addrs) {
      s += m.readLong(a);
    }
    sink = s;
  }

  private static void randomWrite(Memory m, int[] addrs) {
    for (int a : addrs) {
      m.writeLong(a, a);
    }
  }

  private static void bulkCopy(Memory m) {
    int mib = 1 << 20;
    for (int i = 0; i < 16; i++) {
      m.copy(((i + 3) % 15) * mib + 17, (i % 16) * mib, mib);
    }
  }

  private static void firstWrites(Memory m) {
    if (m instanceof PagedMemory p) {
      p.snapshot();
    }
    for (int page = 0; page < PAGES; page++) {
      m.writeI32(page * Memory.PAGE_SIZE + 64, page);
    }
  }

  private static void guest(Impl impl) throws IOException {
    try (InputStream in = PagedMemoryBench.class.getResourceAsStream("/guest/guest.wasm")) {
      var module = Parser.parse(in);
      var compiled = MachineFactoryCompiler.compile(module);
      report(
          "guest instantiate + work(8 pages)",
          1,
          () -> {
            Instance instance =
                Instance.builder(module)
                    .withMachineFactory(compiled)
                    .withMemoryFactory(impl.factory)
                    .build();
            sink = instance.export("work").apply(8, 1)[0];
          });
    }
  }

  private static void report(String name, long ops, Runnable body) {
    for (int i = 0; i < WARMUP; i++) {
      body.run();
    }
    long[] ns = new long[RUNS];
    for (int i = 0; i < RUNS; i++) {
      long t0 = System.nanoTime();
      body.run();
      ns[i] = System.nanoTime() - t0;
    }
    System.out.println(name + "\t" + (double) Arrays.stream(ns).min().orElseThrow() / ops);
  }
}
