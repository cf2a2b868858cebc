package dev.spindle.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.SpindleClient;
import dev.spindle.daemon.DaemonMain;
import dev.spindle.fork.Forks;
import dev.spindle.fork.Guest;
import dev.spindle.fork.SandboxSnapshot;
import dev.spindle.fork.SnapshotMode;
import dev.spindle.sandbox.python.EvalResult;
import dev.spindle.sandbox.python.PythonRuntime;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Python benchmark ({@code bench/python}), one run, one table: start to the first eval result
 * (a cold boot beside a branch of a warm snapshot, in-process and over REST), 100 branched
 * children, a {@code 1+1} eval in-process and over REST, and small pure-Python workloads timed
 * inside the interpreter (best of 5 after two warm-up runs) in a Spindle sandbox and in Debian's
 * native {@code python3} ({@code /usr/bin/python3}, else {@code $BENCH_PYTHON}), with the geometric
 * mean of the ratios. The targets of issue 15 are in the last column.
 *
 * <p>Usage: {@code bench/python [--quick]}. The daemon (own JVM, loopback) is killed at the end.
 */
public final class PythonBench {
  /**
   * Each workload: setup, then {@code work()}. Sized so that native CPython takes ~5-30 ms; the
   * same source runs on both sides.
   */
  static final Map<String, String> WORKLOADS = new LinkedHashMap<>();

  static {
    WORKLOADS.put(
        "loops (arithmetic, 300k iterations)",
        """
        def work():
            s = 0
            for i in range(300000):
                s += i * i % 7
            return s
        """);
    WORKLOADS.put(
        "json round trip (2,000 records)",
        """
        import json
        data = [{'id': i, 'name': 'item%d' % i, 'tags': ['a', 'b', 'c'], 'v': i * 0.5, 'ok': i % 2 == 0}
                for i in range(2000)]
        def work():
            return len(json.loads(json.dumps(data)))
        """);
    WORKLOADS.put(
        "regex (findall + sub, 3,000 lines)",
        """
        import re
        text = '\\n'.join('user%d@example.com wrote %d words at 12:%02d' % (i, i * 7, i % 60) for i in range(3000))
        mail = re.compile(r'\\b(\\w+)@(\\w+)\\.com\\b')
        clock = re.compile(r'(\\d+):(\\d+)')
        def work():
            return len(mail.findall(text)) + len(clock.sub(r'\\2h\\1', text))
        """);
    WORKLOADS.put(
        "string building (100k pieces)",
        """
        def work():
            parts = []
            for i in range(100000):
                parts.append(f'{i}:{i % 13};')
            s = ''.join(parts)
            return len(s.upper().replace(';', ','))
        """);
    WORKLOADS.put(
        "dict/set work (200k operations)",
        """
        def work():
            d = {}
            for i in range(100000):
                k = i % 1000
                d[k] = d.get(k, 0) + 1
            a = set(range(0, 50000, 3))
            b = set(range(0, 50000, 5))
            return len(d) + len(a & b) + len(a | b) + len(a - b)
        """);
    WORKLOADS.put(
        "decimal (3,000 divisions, 50 digits)",
        """
        import decimal
        def work():
            ctx = decimal.Context(prec=50)
            s = decimal.Decimal(0)
            for i in range(1, 3000):
                s = ctx.add(s, ctx.divide(decimal.Decimal(1), decimal.Decimal(i)))
            return str(s)
        """);
    WORKLOADS.put(
        "hashlib (sha256 of 4,000 x 1 KiB)",
        """
        import hashlib
        blocks = [bytes([i % 256]) * 1024 for i in range(4000)]
        def work():
            h = hashlib.sha256()
            for b in blocks:
                h.update(hashlib.sha256(b).digest())
            return h.hexdigest()
        """);
  }

  /**
   * Times {@code work()}: two warm-up runs, then the best of 5, in milliseconds (on the Spindle
   * side the JIT is still compiling CPython's huge methods in the background early in a run).
   */
  static final String HARNESS =
      """
      import time as _t
      def _best(fn, reps=5):
          fn()
          fn()
          best = None
          for _ in range(reps):
              t0 = _t.perf_counter()
              fn()
              dt = (_t.perf_counter() - t0) * 1000
              best = dt if best is None or dt < best else best
          return best
      """;

  /** Branch + first eval rounds before those measured. */
  private static final int WARMUP = 100;

  /**
   * Rounds of 100 children before those measured: the first rounds run in a cold JIT, and with
   * -XX:-DontCompileHugeMethods beside C2 compiling CPython's huge methods on the same 2 CPUs
   * (70-90 ms for 100 in-process after 20 rounds; 8-14 ms once warm, 2026-12-05).
   */
  private static final int HUNDRED_WARMUP = 60;

  private final boolean quick;
  private final Table table = new Table("measure", "Spindle", "baseline", "ratio", "target");

  private PythonBench(boolean quick) {
    this.quick = quick;
  }

  public static void main(String[] args) throws Exception {
    new PythonBench(Arrays.asList(args).contains("--quick")).run();
  }

  private void run() throws Exception {
    Path tmp = Files.createTempDirectory("spindle-pybench-");
    String loadBefore = loadAverage();
    try {
      double cold = coldBoots(tmp.resolve("guest"));
      // The workloads before the branch timings: C2 compiling CPython's huge methods in the
      // background (for seconds, on 2 CPUs) moved a first eval measured just after the boots from
      // 2.4 to 15.5 ms between two runs; a node that has run evals is past that.
      List<Object[]> workloadRows = workloads(tmp.resolve("work-guest"));
      branches(tmp, cold);
      rest(tmp.resolve("node"));
      workloadRows.forEach(r -> table.row(r));
      List<String> xx =
          ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
              .filter(a -> a.startsWith("-XX:"))
              .toList();
      System.out.println(
          "## Spindle Python (CPython 3.13 on Chicory) — "
              + Runtime.getRuntime().availableProcessors()
              + " CPUs, JDK "
              + Runtime.version()
              + ", "
              + (xx.isEmpty() ? "default JIT" : String.join(" ", xx))
              + ", "
              + (quick ? "quick" : "full")
              + " run");
      System.out.println();
      System.out.print(table.render());
      System.out.println();
      // The machine is shared: the load says how much of it this run had.
      System.out.println(
          "Load average (1, 5, 15 min) before: " + loadBefore + "; after: " + loadAverage() + ".");
    } finally {
      Trees.delete(tmp);
    }
  }

  /** Cold boots to the first eval: this JVM's first, then again. Returns the second (ms). */
  private double coldBoots(Path guest) throws Exception {
    // This JVM's first start: reads and parses the 30 MB module and loads the generated classes.
    long t0 = System.nanoTime();
    PythonRuntime first =
        PythonRuntime.start(PythonRuntime.sandbox(guest).timeout(Duration.ofMinutes(5)).build());
    String v = first.eval("1+1").value();
    double coldFresh = ms(t0);
    check("2", v);
    first.close();
    t0 = System.nanoTime();
    PythonRuntime again =
        PythonRuntime.start(PythonRuntime.sandbox(guest).timeout(Duration.ofMinutes(5)).build());
    again.eval("1+1");
    double coldWarmJvm = ms(t0);
    again.close();
    table.row("start → first eval: cold boot, this JVM's first (ms)", f(coldFresh), "", "", "");
    table.row("start → first eval: cold boot, JVM warm (ms)", f(coldWarmJvm), "", "", "");
    return coldWarmJvm;
  }

  /** The warm snapshot, branches and evals in this JVM. */
  private void branches(Path tmp, double coldWarmJvm) throws Exception {
    Path guest = tmp.resolve("guest");
    try (Forks forks = new Forks(new SpindleHome(tmp.resolve("home")))) {
      Guest parent =
          forks.start(PythonRuntime.sandbox(guest).timeout(Duration.ofMinutes(5)).build());
      PythonRuntime warm = PythonRuntime.setup(parent.reactor());
      warm.eval("__import__('os').close(3)", "<spindle>");
      SandboxSnapshot snap = forks.snapshot(parent, Tag.of("warm"), SnapshotMode.FULL);

      // A node's JIT has seen many branches and first evals: warm up as a running node would be.
      int rounds = quick ? 10 : 30;
      double[] branchFirst = new double[rounds];
      for (int i = -WARMUP; i < rounds; i++) {
        long t = System.nanoTime();
        Guest child = forks.branch(snap, 1).getFirst();
        PythonRuntime py = PythonRuntime.attach(child.reactor());
        py.reseed();
        String r = py.eval("1+1").value();
        double d = ms(t);
        check("2", r);
        child.close();
        if (i >= 0) {
          branchFirst[i] = d;
        }
      }
      double b = median(branchFirst);
      table.row(
          "start → first eval: branch of the warm snapshot, in-process (ms, median of "
              + rounds
              + ")",
          f(b),
          f(coldWarmJvm) + " (cold)",
          ratio(b, coldWarmJvm),
          "≤ 10 ms");

      int hundredRounds = quick ? 5 : 15;
      double[] hundred = new double[hundredRounds];
      for (int i = -HUNDRED_WARMUP; i < hundredRounds; i++) {
        long t = System.nanoTime();
        List<Guest> kids = forks.branch(snap, 100);
        double d = ms(t);
        kids.forEach(Guest::close);
        if (i >= 0) {
          hundred[i] = d;
        }
      }
      table.row(
          "100 branched children, in-process (ms, median of " + hundredRounds + ")",
          f(median(hundred)),
          "",
          "",
          "≤ 50 ms");

      Guest child = forks.branch(snap, 1).getFirst();
      PythonRuntime py = PythonRuntime.attach(child.reactor());
      for (int i = 0; i < 3_000; i++) {
        py.eval("1+1");
      }
      int n = quick ? 1_000 : 5_000;
      long[] lat = new long[n];
      for (int i = 0; i < n; i++) {
        long t = System.nanoTime();
        py.eval("1+1");
        lat[i] = System.nanoTime() - t;
      }
      Arrays.sort(lat);
      table.row(
          "`1+1` eval, in-process (ms: p50 / p10 / p99 of " + n + ")",
          f(lat[n / 2] / 1e6) + " / " + f(lat[n / 10] / 1e6) + " / " + f(lat[n * 99 / 100] / 1e6),
          "",
          "",
          "≤ 1 ms");
      child.close();
      parent.close();
    }
  }

  /** The same over the node's API: a daemon in its own JVM, driven from here. */
  private void rest(Path home) throws Exception {
    Process daemon = startDaemon(home);
    try {
      SpindleClient c =
          SpindleClient.connect(
              NodeOutput.readUrl(daemon), Files.readString(new SpindleHome(home).token()).strip());
      long t0 = System.nanoTime();
      String id = c.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
      check("2", c.eval(id, "1+1").value());
      double boot = ms(t0);
      table.row(
          "REST: first Python sandbox of a fresh node → first eval (boots the warm snapshot, ms)",
          f(boot),
          "",
          "",
          "");
      c.deleteSandbox(id);

      int rounds = quick ? 10 : 30;
      double[] first = new double[rounds];
      for (int i = -WARMUP; i < rounds; i++) {
        long t = System.nanoTime();
        String k = c.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
        String v = c.eval(k, "1+1").value();
        double d = ms(t);
        check("2", v);
        c.deleteSandbox(k);
        if (i >= 0) {
          first[i] = d;
        }
      }
      double fr = median(first);
      table.row(
          "REST: create (branch of the warm snapshot) → first eval (ms, median of " + rounds + ")",
          f(fr),
          "",
          "",
          "≤ 10 ms");

      int hundredRounds = quick ? 5 : 15;
      double[] hundred = new double[hundredRounds];
      for (int i = -HUNDRED_WARMUP; i < hundredRounds; i++) {
        long t = System.nanoTime();
        List<SandboxInfo> kids = c.createSandboxes(CreateSandboxes.python(100, null));
        double d = ms(t);
        for (SandboxInfo k : kids) {
          c.deleteSandbox(k.id());
        }
        if (i >= 0) {
          hundred[i] = d;
        }
      }
      table.row(
          "REST: 100 Python sandboxes in one request (ms, median of " + hundredRounds + ")",
          f(median(hundred)),
          "",
          "",
          "≤ 50 ms");

      String k = c.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
      for (int i = 0; i < 2_000; i++) {
        c.eval(k, "1+1");
      }
      int n = quick ? 1_000 : 3_000;
      long[] lat = new long[n];
      for (int i = 0; i < n; i++) {
        long t = System.nanoTime();
        c.eval(k, "1+1");
        lat[i] = System.nanoTime() - t;
      }
      Arrays.sort(lat);
      table.row(
          "`1+1` eval over REST (ms: p50 / p10 / p99 of " + n + ")",
          f(lat[n / 2] / 1e6) + " / " + f(lat[n / 10] / 1e6) + " / " + f(lat[n * 99 / 100] / 1e6),
          "",
          "",
          "");
    } finally {
      daemon.destroyForcibly();
      daemon.waitFor();
    }
  }

  /** Each workload in a Spindle sandbox and in native python3, timed inside the interpreter. */
  private List<Object[]> workloads(Path guest) throws Exception {
    List<Object[]> rows = new ArrayList<>();
    Map<String, Double> nativeMs = nativeTimes();
    PythonRuntime py =
        PythonRuntime.start(PythonRuntime.sandbox(guest).timeout(Duration.ofMinutes(10)).build());
    try {
      check(null, py.eval(HARNESS).error() == null ? null : "harness failed");
      double logSum = 0;
      int i = 0;
      for (Map.Entry<String, String> w : WORKLOADS.entrySet()) {
        EvalResult def = py.eval(w.getValue());
        if (!def.ok()) {
          throw new IllegalStateException(w.getKey() + ": " + def.error().traceback());
        }
        EvalResult r = py.eval("_best(work)");
        if (!r.ok()) {
          throw new IllegalStateException(w.getKey() + ": " + r.error().traceback());
        }
        double spindle = Double.parseDouble(r.value());
        double base = nativeMs.get("w" + i);
        logSum += Math.log(spindle / base);
        rows.add(
            new Object[] {
              "workload: " + w.getKey() + " (ms, best of 5)",
              f(spindle),
              f(base) + " (native)",
              ratio(spindle, base),
              ""
            });
        i++;
      }
      double geomean = Math.exp(logSum / WORKLOADS.size());
      rows.add(
          new Object[] {
            "workloads: geometric mean of the ratios",
            "",
            "",
            String.format("%.1fx", geomean),
            "≤ 30x"
          });
      return rows;
    } finally {
      py.close();
    }
  }

  private static Map<String, Double> nativeTimes() throws Exception {
    String python = System.getenv().getOrDefault("BENCH_PYTHON", "/usr/bin/python3");
    StringBuilder script = new StringBuilder(HARNESS).append("import json as _json\n_out = {}\n");
    int i = 0;
    for (String w : WORKLOADS.values()) {
      // Each workload in its own namespace, as each is its own eval on the Spindle side.
      script
          .append("_ns = {'_best': _best}\nexec(")
          .append(pyString(w))
          .append(", _ns)\n")
          .append("_out['w")
          .append(i)
          .append("'] = _best(_ns['work'])\n");
      i++;
    }
    script.append("print(_json.dumps(_out))\n");
    Process p =
        new ProcessBuilder(python, "-c", script.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(python + " failed:\n" + out);
    }
    JsonNode json =
        new ObjectMapper().readTree(out.strip().lines().reduce((a, b) -> b).orElse("{}"));
    Map<String, Double> m = new LinkedHashMap<>();
    for (int w = 0; w < WORKLOADS.size(); w++) {
      m.put("w" + w, json.get("w" + w).asDouble());
    }
    return m;
  }

  private static String pyString(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'";
  }

  private static Process startDaemon(Path home) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd =
        new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx2g"));
    // The node runs with this JVM's JIT options (bench/python: those ./spindle gives the daemon).
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("-XX:") && !a.startsWith("-XX:StartFlightRecording"))
        .forEach(cmd::add);
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            DaemonMain.class.getName(),
            "--listen",
            "127.0.0.1:0",
            "--home",
            home.toString()));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void check(String expected, String got) {
    if (expected == null ? got != null : !expected.equals(got)) {
      throw new IllegalStateException("expected " + expected + ", got " + got);
    }
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static String f(double v) {
    return v >= 100
        ? String.format("%.0f", v)
        : v >= 10 ? String.format("%.1f", v) : String.format("%.2f", v);
  }

  private static String ratio(double a, double b) {
    return String.format("%.1fx", a / b);
  }
}
