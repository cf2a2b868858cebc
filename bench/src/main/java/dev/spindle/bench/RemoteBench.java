package dev.spindle.bench;

import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import dev.spindle.remote.Descriptor;
import dev.spindle.remote.DescriptorCodec;
import dev.spindle.remote.PageServer;
import dev.spindle.remote.RemotePages;
import dev.spindle.store.Hashes;
import dev.spindle.store.Trees;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The remote-fork benchmark at the page level ({@code bench/remote}): a parent memory of 64 MiB,
 * 256 MiB and 1 GiB is prepared (descriptor), resumed from the descriptor alone, and touched at 1%,
 * 10% and 100% of its pages over loopback TCP, beside (a) a local branch of the same table and (b)
 * copying the whole memory to the child first, then branching (the Firecracker/CRIU way). All in
 * one run; then a whole sandbox ({@link GuestResumeBench}). Usage: {@code bench/remote [--quick]
 * [--guests-only]}.
 */
public final class RemoteBench {
  private static final int PAGE = PageTable.PAGE_SIZE;

  /** Resumes run before the timed ones in the prepare-and-resume table. */
  private static final int RESUME_WARMUP = 30;

  private RemoteBench() {}

  public static void main(String[] args) throws Exception {
    boolean quick = List.of(args).contains("--quick");
    // --guests-only: just the whole-sandbox table (its own setup is the slow part of a full run).
    boolean guestsOnly = List.of(args).contains("--guests-only");
    // --pages-only: just the page-level tables.
    boolean pagesOnly = List.of(args).contains("--pages-only");
    int[] mibs = guestsOnly ? new int[0] : quick ? new int[] {64, 256} : new int[] {64, 256, 1024};
    Table prep =
        new Table(
            "parent",
            "prepare (first)",
            "descriptor (first)",
            "hashes done after",
            "prepare (again)",
            "descriptor (again)",
            "resume to first access");
    // "one at a time" is the page path before pipelining (window 1: no readahead), kept as the
    // same-run baseline; "readahead" is the adaptive, pipelined one children get.
    Table touch =
        new Table(
            "parent",
            "touch",
            "remote, one at a time",
            "remote, readahead",
            "local branch",
            "copy all, then branch",
            "copy all checked, then branch",
            "readahead/local",
            "readahead/copy-all",
            "readahead/copy-all checked",
            "one at a time/copy-all",
            "bytes moved/touched, readahead",
            "same, one at a time");
    Table prefetch = new Table("parent", "sequential scan faults, window 1", "readahead", "cut");
    Table rate = new Table("parent", "children resumed + first access", "children/s");
    try (PageServer server =
        PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      for (int mib : mibs) {
        int pages = mib * 1024 * 1024 / PAGE;
        PagedMemory parent = fill(pages);
        String label = mib + " MiB";
        // The fill just allocated the whole memory; a collection now keeps its aftermath (G1
        // marking 1 GiB of new frames) out of the millisecond being measured.
        System.gc();
        long t0 = System.nanoTime();
        RemotePages.Prepared p = prep(parent, server);
        double first = ms(t0);
        int firstSize = DescriptorCodec.encode(p.descriptor()).length;
        p.upload().join();
        double hashed = ms(t0);
        double[] againMs = new double[7];
        for (int i = 0; i < againMs.length; i++) {
          t0 = System.nanoTime();
          p = prep(parent, server);
          againMs[i] = ms(t0);
        }
        double again = median(againMs);
        byte[] wire = DescriptorCodec.encode(p.descriptor());
        // A node resumes children all day: the first resumes of this JVM run interpreted code
        // (decode 0.4 ms cold, ~50 µs compiled), so they are run, not counted.
        for (int i = 0; i < RESUME_WARMUP; i++) {
          resumeAndRead(wire, pages, 0);
        }
        double[] resume = new double[15];
        for (int i = 0; i < resume.length; i++) {
          t0 = System.nanoTime();
          Descriptor d = DescriptorCodec.decode(wire);
          RemotePages.Resumed r =
              RemotePages.resume(d, null, RemotePages.READAHEAD, Duration.ofSeconds(10));
          PagedMemory child = PagedMemory.branch(new MemoryLimits(pages, pages), r.table());
          child.readInt(0);
          resume[i] = ms(t0);
          r.source().close(); // the page service caps connections per peer: children end
        }
        prep.row(
            label,
            f(first) + " ms",
            String.format("%.1f KiB", firstSize / 1024.0),
            f(hashed) + " ms",
            f(again) + " ms",
            String.format("%.1f KiB", wire.length / 1024.0),
            f(median(resume)) + " ms");

        PageTable table = parent.snapshot();
        for (int pct : new int[] {1, 10, 100}) {
          int[] order = touchOrder(pages, pct);
          RemotePages.Resumed r =
              RemotePages.resume(DescriptorCodec.decode(wire), null, 1, Duration.ofSeconds(10));
          t0 = System.nanoTime();
          PagedMemory child = PagedMemory.branch(new MemoryLimits(pages, pages), r.table());
          long sum = touch(child, order);
          double remote = ms(t0);
          // Each column starts with the same heap: a child of 1 GiB left alive made the next
          // column's run pay for the collector's work on it (2x at 100%, whichever ran second).
          child = null;
          System.gc();
          RemotePages.Resumed r16 =
              RemotePages.resume(
                  DescriptorCodec.decode(wire),
                  null,
                  RemotePages.READAHEAD,
                  Duration.ofSeconds(10));
          t0 = System.nanoTime();
          PagedMemory child16 = PagedMemory.branch(new MemoryLimits(pages, pages), r16.table());
          sum += touch(child16, order);
          sum -= touch(child16, order);
          double remote16 = ms(t0);
          child16 = null;
          System.gc();
          t0 = System.nanoTime();
          PagedMemory local = PagedMemory.branch(new MemoryLimits(pages, pages), table);
          sum -= touch(local, order);
          double localMs = ms(t0);
          t0 = System.nanoTime();
          PageTable copied = copyAll(table, null);
          PagedMemory full = PagedMemory.branch(new MemoryLimits(pages, pages), copied);
          sum += touch(full, order);
          sum -= touch(full, order);
          double copyMs = ms(t0);
          full = null;
          copied = null;
          System.gc();
          // The same copy, each page checked against its SHA-256 as it arrives: what resuming
          // from a copied snapshot costs, since a snapshot's pages are checked when loaded (the
          // remote columns check every page too; the plain copy checks none).
          byte[] expected = new byte[pages * 32];
          java.util.BitSet unknown = table.knownSha256s(expected);
          for (int i = unknown.nextSetBit(0); i >= 0; i = unknown.nextSetBit(i + 1)) {
            System.arraycopy(table.sha256(i), 0, expected, i * 32, 32);
          }
          t0 = System.nanoTime();
          copied = copyAll(table, expected);
          full = PagedMemory.branch(new MemoryLimits(pages, pages), copied);
          sum += touch(full, order);
          sum -= touch(full, order);
          double checkedMs = ms(t0);
          if (sum != 0) {
            throw new IllegalStateException("children disagree");
          }
          double moved = r.source().stats().bytesFetched() / (double) ((long) order.length * PAGE);
          double moved16 =
              r16.source().stats().bytesFetched() / (double) ((long) order.length * PAGE);
          touch.row(
              label,
              pct + "%",
              f(remote) + " ms",
              f(remote16) + " ms",
              f(localMs) + " ms",
              f(copyMs) + " ms",
              f(checkedMs) + " ms",
              Table.ratio(remote16, localMs),
              Table.ratio(remote16, copyMs),
              Table.ratio(remote16, checkedMs),
              Table.ratio(remote, copyMs),
              String.format("%.3f", moved16),
              String.format("%.3f", moved));
          r.source().close();
          r16.source().close();
          child = null;
          child16 = null;
          full = null;
          copied = null;
          System.gc();
        }

        int[] seq = touchOrder(pages, 100);
        RemotePages.Resumed w1 =
            RemotePages.resume(DescriptorCodec.decode(wire), null, 1, Duration.ofSeconds(10));
        touch(PagedMemory.branch(new MemoryLimits(pages, pages), w1.table()), seq);
        RemotePages.Resumed w16 =
            RemotePages.resume(
                DescriptorCodec.decode(wire), null, RemotePages.READAHEAD, Duration.ofSeconds(10));
        touch(PagedMemory.branch(new MemoryLimits(pages, pages), w16.table()), seq);
        prefetch.row(
            label,
            w1.source().stats().faults(),
            w16.source().stats().faults(),
            String.format(
                "%.1fx",
                w1.source().stats().faults()
                    / (double) Math.max(1, w16.source().stats().faults())));
        w1.source().close();
        w16.source().close();
        System.gc();

        int children = quick ? 50 : 200;
        t0 = System.nanoTime();
        for (int c = 0; c < children; c++) {
          resumeAndRead(wire, pages, c % pages);
        }
        double all = ms(t0);
        rate.row(label, children, String.format("%.0f", children / (all / 1000)));
        parent = null;
        System.gc();
      }
    }
    if (!guestsOnly) {
      System.out.println(
          "\n## Prepare and resume (targets: prepare <= 1 ms at 1 GiB, first and again; resume <= 1 ms;"
              + " resume: median of 15 after "
              + RESUME_WARMUP
              + " untimed)\n");
      System.out.print(prep.render());
      System.out.println(
          "\n## Child touching pages: remote fork vs local branch vs copying everything first"
              + " (targets, readahead: 100% <= copy-all, 10% <= 0.2x copy-all; bytes moved <= 1.05x touched)\n");
      System.out.print(touch.render());
      System.out.println("\n## Readahead on a sequential scan: faults (target: cut >= 5x)\n");
      System.out.print(prefetch.render());
      System.out.println("\n## Children forked from one parent to the other node\n");
      System.out.print(rate.render());
    }
    if (pagesOnly) {
      return;
    }
    java.nio.file.Path work = java.nio.file.Files.createTempDirectory("spindle-remote-bench");
    Table guests;
    try {
      guests = GuestResumeBench.run(quick ? new int[] {64} : new int[] {64, 1024}, work);
    } finally {
      Trees.delete(work);
    }
    System.out.println(
        "\n## Whole sandbox: descriptor to the child's first guest instruction (warm.c)\n");
    System.out.print(guests.render());
  }

  /** The parent's node hashes pending pages on a background thread, as the daemon does. */
  private static final java.util.concurrent.ExecutorService BACKGROUND =
      java.util.concurrent.Executors.newSingleThreadExecutor(
          Thread.ofPlatform().daemon().factory());

  private static RemotePages.Prepared prep(PagedMemory parent, PageServer server) {
    return RemotePages.prepare(
        parent.snapshot(),
        new byte[0],
        server,
        "127.0.0.1",
        Duration.ofMinutes(10),
        null,
        BACKGROUND);
  }

  private static PagedMemory fill(int pages) {
    PagedMemory m = new PagedMemory(new MemoryLimits(pages, pages));
    byte[] page = new byte[PAGE];
    Random r = new Random(1);
    for (int p = 0; p < pages; p++) {
      r.nextBytes(page);
      m.write(p * PAGE, page, 0, PAGE);
    }
    return m;
  }

  /** Page indices to touch: every page in order for 100%, else a random sample. */
  private static int[] touchOrder(int pages, int pct) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < pages; i++) {
      all.add(i);
    }
    if (pct < 100) {
      Collections.shuffle(all, new Random(pct));
    }
    return all.subList(0, Math.max(1, pages * pct / 100)).stream()
        .mapToInt(Integer::intValue)
        .toArray();
  }

  /** A child resumed from {@code wire} that reads page {@code page} once, then ends. */
  private static void resumeAndRead(byte[] wire, int pages, int page) throws Exception {
    RemotePages.Resumed r =
        RemotePages.resume(
            DescriptorCodec.decode(wire), null, RemotePages.READAHEAD, Duration.ofSeconds(10));
    try {
      PagedMemory.branch(new MemoryLimits(pages, pages), r.table()).readInt(page * PAGE);
    } finally {
      r.source().close(); // the page service caps connections per peer: children end
    }
  }

  private static long touch(PagedMemory m, int[] pages) {
    long sum = 0;
    for (int p : pages) {
      sum += m.readInt(p * PAGE + 64);
    }
    return sum;
  }

  /**
   * The baseline: every page crosses loopback TCP before the child starts; with {@code expected}
   * (the pages' SHA-256s in order), each page is checked against its hash as it arrives.
   */
  private static PageTable copyAll(PageTable table, byte[] expected) throws Exception {
    try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread sender =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try (Socket s = ss.accept();
                        DataOutputStream out =
                            new DataOutputStream(
                                new java.io.BufferedOutputStream(s.getOutputStream(), 1 << 20))) {
                      byte[] buf = new byte[PAGE];
                      for (int i = 0; i < table.pages(); i++) {
                        table.page(i).get(buf);
                        out.write(buf);
                      }
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
      PagedMemory received = new PagedMemory(new MemoryLimits(table.pages(), table.pages()));
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
          DataInputStream in =
              new DataInputStream(new java.io.BufferedInputStream(s.getInputStream(), 1 << 20))) {
        byte[] buf = new byte[PAGE];
        java.security.MessageDigest sha = Hashes.sha256();
        for (int i = 0; i < table.pages(); i++) {
          in.readFully(buf);
          if (expected != null) {
            byte[] h = sha.digest(buf);
            if (!java.util.Arrays.equals(h, 0, 32, expected, i * 32, i * 32 + 32)) {
              throw new IllegalStateException("page " + i + " arrived with a wrong hash");
            }
          }
          received.write(i * PAGE, buf, 0, PAGE);
        }
      }
      sender.join();
      return received.snapshot();
    }
  }

  private static double median(double[] t) {
    double[] c = t.clone();
    java.util.Arrays.sort(c);
    return c[c.length / 2];
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  private static String f(double v) {
    return String.format("%.2f", v);
  }
}
