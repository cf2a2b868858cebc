package dev.spindle.bench;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Engine;
import dev.spindle.sandbox.RunResult;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.ruby.RubyVm;
import dev.spindle.store.SpindleCache;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sandbox benchmark, one run, every baseline beside Spindle:
 *
 * <ul>
 *   <li>Spindle's {@code PagedMemory} against Chicory's {@code ByteArrayMemory} on memory-heavy C
 *       guests (memset/memcpy/random access; a hash table), compiled mode, and the same C built
 *       natively ({@code cc -O2}) and run by node 20's {@code node:wasi}. Each guest times its own
 *       kernel with the monotonic clock, so start and instantiation are excluded; min of 5 after 2
 *       warm-ups, the two memories alternating.
 *   <li>Compiled against interpreted (a smaller kernel, same for both).
 *   <li>Start: a fresh {@code Sandbox} to the guest's first output, compiling vs loading the
 *       compiled-module cache, for a C guest and for CRuby from npm.
 * </ul>
 *
 * <p>Command: {@code bench/sandbox [--no-ruby]} (prints Markdown on stdout).
 */
public final class SandboxBench {
  private static final Pattern RESULT = Pattern.compile("ms=([0-9.]+) sum=([0-9]+)");
  private static final int WARMUPS = 2;
  private static final int REPS = 5;

  private final BenchGuests guests;
  private final Path repo;

  private SandboxBench(Path repo) {
    this.repo = repo;
    this.guests = new BenchGuests(repo);
  }

  public static void main(String[] args) throws Exception {
    Path repo = Path.of(System.getProperty("spindle.repo", "."));
    SandboxBench b = new SandboxBench(repo);
    boolean ruby = !Arrays.asList(args).contains("--no-ruby");
    System.out.println("# Sandbox benchmark\n");
    System.out.println(machine());
    b.memory();
    b.engines();
    b.starts(ruby);
  }

  private static String machine() {
    return String.format(
        "JDK %s, %d CPUs, Chicory 1.7.5. Kernel times are the guest's own (monotonic clock).%n",
        Runtime.version(), Runtime.getRuntime().availableProcessors());
  }

  /** A workload: a C program and its arguments. */
  record Workload(String label, String program, String... args) {}

  private void memory() throws Exception {
    List<Workload> workloads =
        List.of(
            new Workload("memset+memcpy+10M random (64 MiB)", "memkernel", "64", "10000000"),
            new Workload("hash table, 1M inserts + 2M lookups", "hashtable", "1000000"));
    Table t =
        new Table(
            "workload",
            "ByteArrayMemory",
            "PagedMemory",
            "paged/builtin",
            "native cc -O2",
            "paged/native",
            "node:wasi",
            "paged/node");
    for (Workload w : workloads) {
      Path wasm = guests.wasm(w.program());
      Kernel expected = nativeRun(w);
      double[] builtin = new double[REPS];
      double[] paged = new double[REPS];
      Sandbox sb = sandbox(wasm, w, Engine.COMPILED, ByteArrayMemory::new);
      Sandbox sp = sandbox(wasm, w, Engine.COMPILED, PagedMemory::new);
      for (int i = 0; i < WARMUPS; i++) {
        kernel(sb, expected);
        kernel(sp, expected);
      }
      for (int i = 0; i < REPS; i++) {
        builtin[i] = kernel(sb, expected);
        paged[i] = kernel(sp, expected);
      }
      double nat = best(() -> nativeRun(w).ms());
      double node = nodeRun(wasm, w, expected);
      double b = min(builtin);
      double p = min(paged);
      t.row(
          w.label(),
          ms(b),
          ms(p),
          Table.ratio(p, b),
          ms(nat),
          Table.ratio(p, nat),
          node < 0 ? "n/a" : ms(node),
          node < 0 ? "n/a" : Table.ratio(p, node));
    }
    System.out.println(
        "\n## Memory-heavy guests, compiled mode (kernel time, lower is better; target paged/builtin <= 1.5)\n");
    System.out.print(t.render());
  }

  private void engines() throws Exception {
    Workload w = new Workload("memset+memcpy+300k random (4 MiB)", "memkernel", "4", "300000");
    Path wasm = guests.wasm(w.program());
    Kernel expected = nativeRun(w);
    Sandbox compiled = sandbox(wasm, w, Engine.COMPILED, PagedMemory::new);
    Sandbox interpreted = sandbox(wasm, w, Engine.INTERPRETER, PagedMemory::new);
    kernel(compiled, expected);
    kernel(interpreted, expected);
    double[] c = new double[3];
    double[] in = new double[3];
    for (int i = 0; i < 3; i++) {
      c[i] = kernel(compiled, expected);
      in[i] = kernel(interpreted, expected);
    }
    Table t = new Table("workload", "compiled", "interpreter", "interpreter/compiled");
    t.row(w.label(), ms(min(c)), ms(min(in)), Table.ratio(min(in), min(c)));
    System.out.println("\n## Engines, PagedMemory (kernel time; min of 3 after a warm-up)\n");
    System.out.print(t.render());
  }

  private void starts(boolean ruby) throws Exception {
    Table t = new Table("guest", "module", "where", "cold (compile)", "cached", "cold/cached");
    Path cache = Files.createTempDirectory("spindle-bench-compiled-");
    Path hello = guests.wasm("hello");
    double[] cold = new double[REPS];
    double[] warm = new double[REPS];
    for (int i = 0; i < REPS; i++) {
      cold[i] =
          timeMs(() -> check(Sandbox.builder(hello).noCompiledCache().build().run(), "hello\n"));
      warm[i] =
          timeMs(() -> check(Sandbox.builder(hello).compiledCache(cache).build().run(), "hello\n"));
    }
    t.row(
        "C hello",
        kib(hello),
        "warm JVM, min of 5",
        ms(min(cold)),
        ms(min(warm)),
        Table.ratio(min(cold), min(warm)));
    double jc = freshJvm("c", hello, "none", "hello");
    double jw = freshJvm("c", hello, cache.toString(), "hello");
    t.row("C hello", kib(hello), "fresh JVM", ms(jc), ms(jw), Table.ratio(jc, jw));
    if (ruby) {
      Path rubyWasm = RubyVm.wasm(SpindleCache.root().resolve("guests/npm"));
      if (Files.exists(rubyWasm)
          || (new ProcessBuilder(repo.resolve("scripts/npm-guests").toString())
                      .inheritIO()
                      .start()
                      .waitFor()
                  == 0
              && Files.exists(rubyWasm))) {
        double rc = timeMs(() -> rubyStart(rubyWasm, cache));
        double rw =
            Math.min(
                timeMs(() -> rubyStart(rubyWasm, cache)), timeMs(() -> rubyStart(rubyWasm, cache)));
        String label = "CRuby 3.4 (ruby+stdlib.wasm)";
        t.row(label, kib(rubyWasm), "in-process, to `puts 1`", ms(rc), ms(rw), Table.ratio(rc, rw));
        double fw = freshJvm("ruby", rubyWasm, cache.toString(), "1");
        t.row(
            label,
            kib(rubyWasm),
            "fresh JVM, to `puts 1`",
            "(as above)",
            ms(fw),
            Table.ratio(rc, fw));
      } else {
        t.row("CRuby", "n/a", "npm missing", "", "", "");
      }
    }
    System.out.println(
        "\n## Start: a new Sandbox to the guest's first output (target: cached CRuby <= 1 s)\n");
    System.out.print(t.render());
  }

  /** {@link StartOnce} in a new JVM with this JVM's class path; its own main-to-output time. */
  private static double freshJvm(String kind, Path wasm, String cache, String expected)
      throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    String out =
        Cmd.run(
            Path.of("."),
            List.of(
                java.toString(),
                "-Xss64m",
                "--sun-misc-unsafe-memory-access=allow",
                "-cp",
                System.getProperty("java.class.path"),
                StartOnce.class.getName(),
                kind,
                wasm.toString(),
                cache));
    Matcher m = Pattern.compile("ms=([0-9.]+) out=(.*)").matcher(out);
    if (!m.find() || !m.group(2).equals(expected)) {
      throw new IllegalStateException("StartOnce printed " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  private static void rubyStart(Path wasm, Path cache) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Sandbox s = Sandbox.builder(wasm).compiledCache(cache).stdout(out).build();
    try (RubyVm vm = RubyVm.start(s, List.of("ruby", "-EUTF-8", "-e_=0"))) {
      vm.eval("puts 1");
    }
    if (!out.toString(StandardCharsets.UTF_8).equals("1\n")) {
      throw new IllegalStateException("CRuby printed " + out);
    }
  }

  private static Sandbox sandbox(
      Path wasm, Workload w, Engine engine, Function<MemoryLimits, Memory> memory)
      throws IOException {
    return Sandbox.builder(wasm).args(w.args()).engine(engine).memoryFactory(memory).build();
  }

  /** The guest's kernel time, checking its checksum against the native build's. */
  private static double kernel(Sandbox s, Kernel expected) {
    RunResult r = s.run();
    Kernel k = Kernel.parse(r.stdoutText());
    if (!k.sum().equals(expected.sum())) {
      throw new IllegalStateException("guest computed " + k.sum() + ", native " + expected.sum());
    }
    return k.ms();
  }

  record Kernel(double ms, String sum) {
    static Kernel parse(String out) {
      Matcher m = RESULT.matcher(out);
      if (!m.find()) {
        throw new IllegalStateException("no result in: " + out);
      }
      return new Kernel(Double.parseDouble(m.group(1)), m.group(2));
    }
  }

  private Kernel nativeRun(Workload w) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(guests.nativeBinary(w.program()).toString()));
    cmd.addAll(List.of(w.args()));
    return Kernel.parse(Cmd.run(repo, cmd));
  }

  /**
   * node 20's {@code node:wasi} on the same module, min of 5; -1 if node is absent. node exits with
   * SIGSEGV after the guest finishes on this machine (measured), so only the output counts.
   */
  private double nodeRun(Path wasm, Workload w, Kernel expected) throws Exception {
    if (!Cmd.available("node")) {
      return -1;
    }
    Path runner = Files.createTempFile("spindle-wasi-", ".mjs");
    Files.writeString(
        runner,
        """
        import { readFile } from 'node:fs/promises';
        import { WASI } from 'node:wasi';
        const [file, ...args] = process.argv.slice(2);
        const wasi = new WASI({ version: 'preview1', returnOnExit: true, args: [file, ...args], env: {} });
        const mod = await WebAssembly.compile(await readFile(file));
        process.exitCode = wasi.start(await WebAssembly.instantiate(mod, wasi.getImportObject()));
        """);
    double best = Double.MAX_VALUE;
    for (int i = 0; i < REPS; i++) {
      List<String> cmd =
          new ArrayList<>(List.of("node", "--no-warnings", runner.toString(), wasm.toString()));
      cmd.addAll(List.of(w.args()));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      Kernel k = Kernel.parse(out);
      if (!k.sum().equals(expected.sum())) {
        throw new IllegalStateException("node computed " + k.sum());
      }
      best = Math.min(best, k.ms());
    }
    Files.delete(runner);
    return best;
  }

  interface Timed {
    void run() throws Exception;
  }

  interface Measured {
    double ms() throws Exception;
  }

  private static double timeMs(Timed t) throws Exception {
    long start = System.nanoTime();
    t.run();
    return (System.nanoTime() - start) / 1e6;
  }

  private static double best(Measured m) throws Exception {
    double best = Double.MAX_VALUE;
    for (int i = 0; i < REPS; i++) {
      best = Math.min(best, m.ms());
    }
    return best;
  }

  private static void check(RunResult r, String expected) {
    if (!r.stdoutText().equals(expected)) {
      throw new IllegalStateException("guest printed " + r.stdoutText());
    }
  }

  private static double min(double[] xs) {
    return Arrays.stream(xs).min().orElseThrow();
  }

  private static String ms(double ms) {
    return ms >= 1000 ? String.format("%.2f s", ms / 1000) : String.format("%.1f ms", ms);
  }

  private static String kib(Path p) throws IOException {
    long n = Files.size(p);
    return n >= 1 << 20
        ? String.format("%.1f MiB", n / 1048576.0)
        : String.format("%.0f KiB", n / 1024.0);
  }
}
