package dev.spindle.bench;

import dev.spindle.fork.Forks;
import dev.spindle.fork.Guest;
import dev.spindle.fork.RemoteForks;
import dev.spindle.memory.PagedMemory;
import dev.spindle.remote.Descriptor;
import dev.spindle.remote.DescriptorCodec;
import dev.spindle.remote.PageServer;
import dev.spindle.remote.RemotePages;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.SpindleHome;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * Remote fork of a whole sandbox, timed to the child's first guest instruction: the warmed C guest
 * of {@code bench/branch} ({@code warm.c}: a 100,000-entry hash map, then N MiB touched) is
 * prepared on one "node" (a {@link Forks} over its own home, with a page service on loopback) and
 * resumed on another (a second home): descriptor bytes → decode → module stored and compiled (the
 * first time only) → {@code resumeReactor} → first call. {@code tick} touches no page (a Wasm
 * global); {@code peek} reads one cell of the touched region: its page, the shadow stack's and the
 * data pages the call touches come from the parent, with the adaptive readahead.
 */
final class GuestResumeBench {
  private static final int RUNS = 7;
  private static final int WARMUP = 40;

  private GuestResumeBench() {}

  static Table run(int[] mibs, Path work) throws Exception {
    byte[] wasm =
        BranchBench.compileGuest(
            Path.of(System.getProperty("spindle.repo", ".")).resolve("sandbox/src/test/c/warm.c"),
            work);
    Table t =
        new Table(
            "parent",
            "descriptor",
            "resume → first call, cold (module compiled)",
            "resume → tick (no page)",
            "resume → peek (one cell)",
            "pages fetched by peek (readahead)");
    try (PageServer server =
        PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      for (int mib : mibs) {
        Path homes = Files.createTempDirectory(work, "resume-" + mib);
        try (Forks parentNode = new Forks(new SpindleHome(homes.resolve("a")));
            Forks childNode = new Forks(new SpindleHome(homes.resolve("b")));
            Guest parent =
                parentNode.start(Sandbox.builder(wasm).memoryFactory(PagedMemory::new).build())) {
          parent.call("warm", 100_000);
          parent.call("touch", mib);
          RemotePages.Prepared p =
              new RemoteForks(parentNode)
                  .prepare(
                      parent, server, "127.0.0.1", Duration.ofMinutes(10), null, Runnable::run);
          byte[] wire = DescriptorCodec.encode(p.descriptor());
          RemoteForks child = new RemoteForks(childNode);
          double cold = resumeAndCall(child, wire, "tick").ms;
          for (int i = 0; i < WARMUP; i++) {
            resumeAndCall(child, wire, i % 2 == 0 ? "tick" : "peek"); // lets the JIT see the path
          }
          double[] tick = new double[RUNS];
          double[] peek = new double[RUNS];
          long fetched = 0;
          for (int i = 0; i < RUNS; i++) {
            tick[i] = resumeAndCall(child, wire, "tick").ms;
            Timed r = resumeAndCall(child, wire, "peek");
            peek[i] = r.ms;
            fetched = r.fetched;
          }
          t.row(
              mib + " MiB",
              String.format("%.0f KiB", wire.length / 1024.0),
              f(cold) + " ms",
              f(median(tick)) + " ms",
              f(median(peek)) + " ms",
              fetched);
        }
      }
    }
    return t;
  }

  private record Timed(double ms, long fetched) {}

  private static Timed resumeAndCall(RemoteForks node, byte[] wire, String export)
      throws Exception {
    long t0 = System.nanoTime();
    Descriptor d = DescriptorCodec.decode(wire);
    RemoteForks.Child c = node.resume(d, null, RemotePages.READAHEAD, Duration.ofSeconds(10));
    if (export.equals("peek")) {
      c.guest().call("peek", 0);
    } else {
      c.guest().call(export);
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    long fetched = c.pages().stats().pagesFetched();
    c.close();
    return new Timed(ms, fetched);
  }

  private static double median(double[] t) {
    double[] c = t.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  private static String f(double v) {
    return String.format("%.2f", v);
  }
}
