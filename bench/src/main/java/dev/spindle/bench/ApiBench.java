package dev.spindle.bench;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.SpindleClient;
import dev.spindle.daemon.DaemonMain;
import dev.spindle.daemon.SampleGuest;
import dev.spindle.sandbox.GuestThreads;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;

/**
 * The API benchmark ({@code bench/api}): what the REST API costs over doing the same in-process. A
 * daemon runs in its own JVM on a loopback port; this process is the load generator.
 *
 * <ul>
 *   <li>spawn: 100 reactors of the sample guest, one {@code POST /v1/sandboxes} with {@code n=100}
 *       beside {@code Sandbox.build()} + 100 {@code startReactor()} (median of several rounds);
 *   <li>call: {@code add(40, 2)} from T threads, each with its own sandbox (calls into one sandbox
 *       are serialised), a bounded number of calls per thread and a time cap; p50/p99 latency and
 *       throughput, beside {@code Reactor.call} in-process with the same threads. The callers are
 *       big-stack threads ({@link GuestThreads}), so in-process calls run on them (as the node's
 *       request threads run calls); one more row has in-process calls from plain threads, which
 *       hand each call to a pooled guest thread.
 * </ul>
 *
 * <p>Usage: {@code bench/api [--quick] [--daemon-classpath CP]}. Loopback only; the daemon is
 * killed at the end. {@code --daemon-classpath} runs the daemon from another build (e.g. the jar of
 * an earlier commit), so that two servers are compared through the same client code.
 */
public final class ApiBench {
  private static final int SPAWN = 100;
  private static final long TIME_CAP_NANOS = 15_000_000_000L;

  private final boolean quick;
  private final String daemonClasspath;
  private final byte[] wasm = SampleGuest.wasm();
  private final Table table =
      new Table("measure", "in-process", "REST (loopback)", "REST / in-process");

  private ApiBench(boolean quick, String daemonClasspath) {
    this.quick = quick;
    this.daemonClasspath = daemonClasspath;
  }

  public static void main(String[] args) throws Exception {
    List<String> a = Arrays.asList(args);
    boolean quick = a.contains("--quick");
    int cp = a.indexOf("--daemon-classpath");
    if (cp >= 0 && cp + 1 >= args.length) {
      throw new IllegalArgumentException("--daemon-classpath wants a class path");
    }
    new ApiBench(quick, cp >= 0 ? args[cp + 1] : System.getProperty("java.class.path")).run();
  }

  private void run() throws Exception {
    Path home = Files.createTempDirectory("spindle-apibench-");
    Process daemon = startDaemon(home);
    daemonPid = daemon.pid();
    try {
      String url = NodeOutput.readUrl(daemon);
      String token = Files.readString(new SpindleHome(home).token()).strip();
      SpindleClient client = SpindleClient.connect(url, token);
      spawn(client);
      int calls = quick ? 2_000 : 20_000;
      for (int threads : new int[] {1, 4}) {
        calls(client, url, token, threads, calls);
      }
      System.out.println(
          "## Spindle API vs in-process (sample reactor, "
              + Runtime.getRuntime().availableProcessors()
              + " CPUs, "
              + (quick ? "quick" : "full")
              + " run)");
      System.out.println();
      System.out.print(table.render());
    } finally {
      daemon.destroyForcibly();
      daemon.waitFor();
      Trees.delete(home);
    }
  }

  private void spawn(SpindleClient client) throws Exception {
    int rounds = quick ? 3 : 7;
    double[] local = new double[rounds];
    double[] rest = new double[rounds];
    for (int round = -2; round < rounds; round++) { // two warm-up rounds
      long t = System.nanoTime();
      Sandbox s = Sandbox.builder(wasm).build();
      List<Reactor> rs = new ArrayList<>();
      for (int i = 0; i < SPAWN; i++) {
        rs.add(s.startReactor());
      }
      double l = (System.nanoTime() - t) / 1e6;
      rs.forEach(Reactor::close);
      t = System.nanoTime();
      List<SandboxInfo> made =
          client.createSandboxes(new CreateSandboxes(Wasm.bytes(wasm), null, null, SPAWN, null));
      double r = (System.nanoTime() - t) / 1e6;
      for (SandboxInfo i : made) {
        client.deleteSandbox(i.id());
      }
      if (round >= 0) {
        local[round] = l;
        rest[round] = r;
      }
    }
    double ml = median(local);
    double mr = median(rest);
    table.row(
        "spawn " + SPAWN + " sandboxes, ms (median of " + rounds + ")",
        f(ml),
        f(mr),
        ratio(mr, ml));
  }

  /** Per-thread latencies in nanoseconds, and the wall time of the whole run. */
  private record Load(long[] latencies, long wallNanos) {
    double throughput() {
      return latencies.length / (wallNanos / 1e9);
    }

    double percentile(double p) {
      long[] s = latencies.clone();
      Arrays.sort(s);
      return s[Math.min(s.length - 1, (int) Math.ceil(p * s.length) - 1)] / 1e3;
    }
  }

  @FunctionalInterface
  private interface Caller {
    void call() throws Exception;
  }

  private void calls(
      SpindleClient client, String url, String token, int threads, int callsPerThread)
      throws Exception {
    Sandbox s = Sandbox.builder(wasm).build();
    List<Reactor> reactors = new ArrayList<>();
    List<Caller> local = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Reactor r = s.startReactor();
      reactors.add(r);
      local.add(() -> r.call("add", 40, 2));
    }
    List<SandboxInfo> made =
        client.createSandboxes(new CreateSandboxes(Wasm.bytes(wasm), null, null, threads, null));
    List<Caller> rest = new ArrayList<>();
    List<Caller> raw = new ArrayList<>();
    List<KeepAliveHttp> sockets = new ArrayList<>();
    for (SandboxInfo i : made) {
      rest.add(() -> client.call(i.id(), "add", 40, 2));
      KeepAliveHttp h = new KeepAliveHttp(url, token);
      sockets.add(h);
      raw.add(
          () ->
              h.post("/v1/sandboxes/" + i.id() + "/call", "{\"export\":\"add\",\"args\":[40,2]}"));
    }
    drive(local, Math.min(2_000, callsPerThread), BIG_STACK);
    drive(rest, Math.min(2_000, callsPerThread), BIG_STACK);
    Load l = drive(local, callsPerThread, BIG_STACK);
    Load r = drive(rest, callsPerThread, BIG_STACK);
    drive(raw, Math.min(2_000, callsPerThread), BIG_STACK);
    long node0 = nodeCpuNanos();
    long self0 = selfCpuNanos();
    Load k = drive(raw, callsPerThread, BIG_STACK);
    double nodeUs = (nodeCpuNanos() - node0) / 1e3 / k.latencies.length;
    double selfUs = (selfCpuNanos() - self0) / 1e3 / k.latencies.length;
    for (KeepAliveHttp h : sockets) {
      h.close();
    }
    drive(local, Math.min(2_000, callsPerThread), Thread.ofPlatform().factory());
    Load h = drive(local, callsPerThread, Thread.ofPlatform().factory());
    reactors.forEach(Reactor::close);
    for (SandboxInfo i : made) {
      client.deleteSandbox(i.id());
    }
    String t = threads + " thread" + (threads > 1 ? "s" : "");
    table.row(
        "call add(), " + t + ": p50 µs",
        f(l.percentile(0.50)),
        f(r.percentile(0.50)),
        ratio(r.percentile(0.50), l.percentile(0.50)));
    table.row(
        "call add(), " + t + ": p99 µs",
        f(l.percentile(0.99)),
        f(r.percentile(0.99)),
        ratio(r.percentile(0.99), l.percentile(0.99)));
    table.row(
        "call add(), " + t + ": calls/s (" + r.latencies.length + " REST calls)",
        f(l.throughput()),
        f(r.throughput()),
        ratio(r.throughput(), l.throughput()));
    String sock =
        "call add(), " + t + ", REST on a plain keep-alive socket per thread (no HttpClient): ";
    table.row(
        sock + "p50 µs", "", f(k.percentile(0.50)), ratio(k.percentile(0.50), l.percentile(0.50)));
    table.row(
        sock + "p99 µs", "", f(k.percentile(0.99)), ratio(k.percentile(0.99), l.percentile(0.99)));
    table.row(sock + "calls/s", "", f(k.throughput()), ratio(k.throughput(), l.throughput()));
    // What bounds calls/s when node and client share the machine's CPUs: CPU time per call.
    int cpus = Runtime.getRuntime().availableProcessors();
    table.row(
        sock + "CPU µs per call, node / this client (calls/s the CPUs allow)",
        "",
        f(nodeUs) + " / " + f(selfUs) + " (" + f(cpus * 1e6 / (nodeUs + selfUs)) + ")",
        "");
    table.row(
        "call add(), " + t + ", plain caller threads (hand-off): p50 µs / calls/s",
        f(h.percentile(0.50)) + " / " + f(h.throughput()),
        "",
        "");
  }

  private static final ThreadFactory BIG_STACK = GuestThreads.factory("bench-caller");

  /** Each caller on its own thread, {@code n} calls or until the time cap, whichever first. */
  private static Load drive(List<Caller> callers, int n, ThreadFactory threads) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(callers.size(), threads);
    try {
      long start = System.nanoTime();
      long deadline = start + TIME_CAP_NANOS;
      List<Future<long[]>> fs = new ArrayList<>();
      for (Caller c : callers) {
        Callable<long[]> task =
            () -> {
              long[] lat = new long[n];
              int done = 0;
              while (done < n && System.nanoTime() < deadline) {
                long t = System.nanoTime();
                c.call();
                lat[done++] = System.nanoTime() - t;
              }
              return Arrays.copyOf(lat, done);
            };
        fs.add(pool.submit(task));
      }
      List<long[]> all = new ArrayList<>();
      for (Future<long[]> f : fs) {
        all.add(f.get());
      }
      long wall = System.nanoTime() - start;
      return new Load(all.stream().flatMapToLong(Arrays::stream).toArray(), wall);
    } finally {
      pool.shutdownNow();
    }
  }

  private long daemonPid;

  /** The node process's CPU time (user + system), from /proc: clock ticks of 10 ms. */
  private long nodeCpuNanos() throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(daemonPid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
    return ticks * 10_000_000L; // USER_HZ is 100 on Linux
  }

  /** This process's CPU time: the benchmark's client threads and the JVM's own. */
  private static long selfCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private Process startDaemon(Path home) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(
            java,
            "--enable-native-access=ALL-UNNAMED",
            "-Xmx1g",
            "-cp",
            daemonClasspath,
            DaemonMain.class.getName(),
            "--listen",
            "127.0.0.1:0",
            "--home",
            home.toString())
        .redirectErrorStream(true)
        .start();
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static String f(double v) {
    return v >= 100 ? String.format("%.0f", v) : String.format("%.1f", v);
  }

  private static String ratio(double a, double b) {
    return String.format("%.1f×", a / b);
  }
}
