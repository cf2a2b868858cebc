package dev.spindle.bench;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.Dir;
import dev.spindle.client.Api.Fork;
import dev.spindle.client.Api.ForkResult;
import dev.spindle.client.Api.Limits;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import dev.spindle.daemon.DaemonMain;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.lazy.LazyImages;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The files benchmark ({@code bench/files}): what carrying a sandbox's files costs, over the REST
 * API of nodes in their own processes (as {@code bench/api} starts one), in one run. The guest is
 * {@code bench/src/main/c/filetree.c}, a reactor that writes a tree of files into a scratch
 * directory given through {@code dirs}, or holds the same bytes in memory.
 *
 * <ul>
 *   <li>overhead: snapshot and branch of a sandbox with 10,000 written files (1 KiB each) beside
 *       the same operations on a sandbox holding the same bytes in memory only; the median of
 *       several rounds after a warm-up round, with the ratio;
 *   <li>remote: a child on a second node reading 1% of a 100 MB tree its parent wrote (remote fork,
 *       files travelling lazily), beside pulling the whole tree to that node first (the tree as an
 *       image, {@code image pull}) and a lazy image pull, each then read by a sandbox there. A
 *       remote fork the node refuses is a row saying so with the node's reason.
 * </ul>
 *
 * <p>Usage: {@code bench/files [--quick]} (1,000 files and a 10 MB tree). Loopback only; the nodes
 * are killed and their homes deleted at the end.
 */
public final class FilesBench {
  private static final long TIMEOUT_MS = 600_000;

  private final boolean quick;
  private final int files;
  private final int fileSize = 1024;
  private final int treeFiles;
  private final int treeFileSize = 100 * 1024;
  private final int rounds;
  private final Path work;
  private final byte[] wasm;

  private FilesBench(boolean quick, Path work, byte[] wasm) {
    this.quick = quick;
    this.files = quick ? 1_000 : 10_000;
    this.treeFiles = quick ? 100 : 1_000;
    this.rounds = 3;
    this.work = work;
    this.wasm = wasm;
  }

  public static void main(String[] args) throws Exception {
    List<String> a = Arrays.asList(args);
    for (String s : a) {
      if (!s.equals("--quick")) {
        System.err.println("usage: bench/files [--quick]");
        System.exit(2);
      }
    }
    Path repo = Path.of(System.getProperty("spindle.repo", "."));
    Path work = Files.createTempDirectory("spindle-files-bench");
    try {
      byte[] wasm = Files.readAllBytes(new BenchGuests(repo).reactorWasm("filetree"));
      new FilesBench(a.contains("--quick"), work, wasm).run();
    } finally {
      Trees.delete(work);
    }
  }

  private void run() throws Exception {
    int portA = freePort();
    int portB = freePort();
    String urlA = "http://127.0.0.1:" + portA;
    String urlB = "http://127.0.0.1:" + portB;
    Path homeA = work.resolve("node-a");
    Path homeB = work.resolve("node-b");
    Table overhead;
    Table remote = new Table("child on node B", "to the 1% read", "bytes moved", "vs pull-first");
    Process a = startNode(homeA, portA, urlB);
    Process b = null;
    try {
      NodeOutput.readUrl(a);
      SpindleClient ca = SpindleClient.connect(urlA, token(homeA));
      overhead = overhead(ca);

      // The tree as an image on A (made from the same bytes the guest writes), for the baselines.
      Path tree = work.resolve("tree");
      writeTree(tree, treeFiles, treeFileSize);
      ca.makeImage(new MakeImage(tree.toString(), "tree"));
      // The lazy pull gets an image with another root: B opens one file system per root, so an
      // image with the whole pull's root would be read from the whole image.
      Files.writeString(tree.resolve("lazy"), "another root\n");
      ca.makeImage(new MakeImage(tree.toString(), "tree-lazy"));
      SpindleHome hb = new SpindleHome(homeB);
      long t0 = System.nanoTime();
      VerifyReport whole =
          LazyImages.pull(
              hb, Tag.of("tree"), URI.create(urlA), token(homeA), "tree", Progress.NONE);
      double pullMs = ms(t0);
      t0 = System.nanoTime();
      VerifyReport lazy =
          LazyImages.pullLazy(
              hb, Tag.of("tree-lazy"), URI.create(urlA), token(homeA), "tree-lazy", Progress.NONE);
      double lazyPullMs = ms(t0);
      if (!whole.ok() || !lazy.ok()) {
        throw new IllegalStateException("pulls failed: " + whole.problems() + lazy.problems());
      }
      long wholeBytes = Files.size(new ImageStore(hb).path(Tag.of("tree")));

      b = startNode(homeB, portB, urlA);
      NodeOutput.readUrl(b);
      SpindleClient cb = SpindleClient.connect(urlB, token(homeB));
      long expected = expectedSum();
      // B compiles the module once before anything is timed there (each row's first sandbox would
      // otherwise pay for it, whichever row ran first).
      cb.deleteSandbox(create(cb, null).id());

      // Pull first: the whole tree is on B before its sandbox starts.
      t0 = System.nanoTime();
      String s = create(cb, List.of(Dir.image("/data", "tree"))).id();
      long sum = call(cb, s, "read_tree", treeFiles, 100);
      double wholeRead = ms(t0);
      check(sum, expected, "pull-first child");
      double pullFirst = pullMs + wholeRead;

      // What the lazy child fetched: what its node's object cache holds after the read.
      Path cache = LazyImages.objectCache(hb);
      long fetchedBefore = bytesBelow(cache);
      t0 = System.nanoTime();
      String l = create(cb, List.of(Dir.image("/data", "tree-lazy"))).id();
      sum = call(cb, l, "read_tree", treeFiles, 100);
      double lazyRead = ms(t0);
      check(sum, expected, "lazy-image child");
      long lazyBytes = bytesBelow(cache) - fetchedBefore;

      remote.row(remoteFork(ca, cb, urlB, token(homeB), expected, pullFirst));
      remote.row(
          "lazy image pull, then a sandbox reads 1%",
          f(lazyPullMs + lazyRead) + " ms (pull " + f(lazyPullMs) + ")",
          Table.mb(lazyBytes) + " of blobs cached (+ metadata)",
          Table.ratio(lazyPullMs + lazyRead, pullFirst));
      remote.row(
          "pull the whole tree first (image pull), then a sandbox reads 1%",
          f(pullFirst) + " ms (pull " + f(pullMs) + ")", Table.mb(wholeBytes), "1.00x");
    } finally {
      for (Process p : new Process[] {a, b}) {
        if (p != null) {
          p.destroyForcibly();
          p.waitFor();
        }
      }
    }
    String load = quick ? "quick run" : "full run";
    System.out.printf(
        "## Carrying files: snapshot and branch of a sandbox with %,d files of %d B in scratch /data"
            + " vs the same bytes in memory only (REST, median of %d, %s)%n%n",
        files, fileSize, rounds, load);
    System.out.print(overhead.render());
    System.out.printf(
        "%n## A child on another node reading 1%% (%d of %d files, %s of a %s tree)%n%n",
        treeFiles / 100,
        treeFiles,
        Table.mb((long) treeFiles / 100 * treeFileSize),
        Table.mb((long) treeFiles * treeFileSize));
    System.out.print(remote.render());
  }

  /** Snapshot and branch times, files against memory only. */
  private Table overhead(SpindleClient c) {
    String[] ops = {
      "snapshot, full (first)",
      "snapshot, live, 1 file changed since",
      "branch, 1 child",
      "branch, 10 children"
    };
    double[][] withFiles = new double[ops.length][rounds];
    double[][] inMemory = new double[ops.length][rounds];
    for (int r = -1; r < rounds; r++) { // round -1 warms the node up
      double[] f = measure(c, true, "f" + (r + 1));
      double[] m = measure(c, false, "m" + (r + 1));
      if (r >= 0) {
        for (int i = 0; i < ops.length; i++) {
          withFiles[i][r] = f[i];
          inMemory[i][r] = m[i];
        }
      }
    }
    Table t = new Table("operation", "files", "memory only", "files/memory");
    for (int i = 0; i < ops.length; i++) {
      double fm = median(withFiles[i]);
      double mm = median(inMemory[i]);
      t.row(ops[i], f(fm) + " ms", f(mm) + " ms", Table.ratio(fm, mm));
    }
    return t;
  }

  /** One round: a sandbox made, filled, snapshotted twice and branched; all deleted after. */
  private double[] measure(SpindleClient c, boolean withFiles, String name) {
    String id = create(c, withFiles ? List.of(Dir.scratch("/data")) : null).id();
    long wrote =
        withFiles
            ? call(c, id, "write_tree", files, fileSize)
            : call(c, id, "hold_in_memory", files, fileSize);
    if (wrote != (long) files * fileSize) {
      throw new IllegalStateException("the guest wrote " + wrote + " (-errno?)");
    }
    double[] out = new double[4];
    long t0 = System.nanoTime();
    c.snapshot(id, new Snapshot(name + "-1", "full", true));
    out[0] = ms(t0);
    check(
        call(c, id, withFiles ? "rewrite" : "rewrite_held", files / 2, fileSize, 7), 0, "rewrite");
    t0 = System.nanoTime();
    c.snapshot(id, new Snapshot(name + "-2", "live", false));
    out[1] = ms(t0);
    List<String> made = new ArrayList<>();
    t0 = System.nanoTime();
    c.createSandboxes(CreateSandboxes.branch(name + "-1", 1)).forEach(s -> made.add(s.id()));
    out[2] = ms(t0);
    t0 = System.nanoTime();
    c.createSandboxes(CreateSandboxes.branch(name + "-1", 10)).forEach(s -> made.add(s.id()));
    out[3] = ms(t0);
    made.add(id);
    made.forEach(c::deleteSandbox);
    for (String tag : List.of(name + "-2", name + "-1")) {
      awaitDeleted(c, tag);
    }
    return out;
  }

  /** Deletes snapshot {@code tag} once it is written (a live one finishes in the background). */
  private static void awaitDeleted(SpindleClient c, String tag) {
    for (int i = 0; ; i++) {
      try {
        c.deleteImage(tag, true);
        return;
      } catch (ApiException e) {
        if (i == 600) {
          throw e;
        }
        sleep(50);
      }
    }
  }

  /** The remote-fork row: timed and counted, or the node's refusal. */
  private Object[] remoteFork(
      SpindleClient ca, SpindleClient cb, String urlB, String tokenB, long expected, double base) {
    String label = "remote fork of a parent that wrote the tree into scratch /data (snapshotted)";
    String parent = create(ca, List.of(Dir.scratch("/data"))).id();
    long wrote = call(ca, parent, "write_tree", treeFiles, treeFileSize);
    check(wrote, (long) treeFiles * treeFileSize, "parent's tree");
    // Untimed, as making the image is for the pull-first baseline: the parent's files are in its
    // node's store (a snapshot), so the fork's prepare re-reads none of them (UpperStats).
    ca.snapshot(parent, new Snapshot("remote-parent", "live", true));
    long movedBefore = metric(cb, "spindle_remote_file_bytes_fetched");
    long t0 = System.nanoTime();
    ForkResult fr;
    try {
      fr = ca.fork(parent, new Fork(urlB, tokenB, null));
    } catch (ApiException e) {
      String why = e.getMessage().replaceAll("\\s+", " ");
      return new Object[] {
        label, "refused: " + (why.length() > 200 ? why.substring(0, 200) + "..." : why), "-", "-"
      };
    }
    SandboxInfo child = fr.child();
    long sum = call(cb, child.id(), "read_tree", treeFiles, 100);
    double ms = ms(t0);
    check(sum, expected, "remote child");
    // File contents node B fetched for the child (blobs; the commit and trees are not counted).
    long moved = metric(cb, "spindle_remote_file_bytes_fetched") - movedBefore;
    return new Object[] {
      label, f(ms) + " ms", Table.mb(moved) + " of blobs", Table.ratio(ms, base)
    };
  }

  /** A counter of the node's {@code /metrics} (0 when the node does not report it). */
  private static long metric(SpindleClient c, String name) {
    for (String line : c.metrics().split("\n")) {
      if (line.startsWith(name + " ")) {
        return (long) Double.parseDouble(line.substring(name.length() + 1).trim());
      }
    }
    return 0;
  }

  /** Bytes of the regular files below {@code dir} (0 if absent). */
  private static long bytesBelow(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (var files = Files.walk(dir)) {
      long sum = 0;
      for (Path p : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          sum += Files.size(p);
        }
      }
      return sum;
    }
  }

  private SandboxInfo create(SpindleClient c, List<Dir> dirs) {
    CreateSandboxes req =
        new CreateSandboxes(Wasm.bytes(wasm), null, null, 1, new Limits(TIMEOUT_MS, null, null))
            .withDirs(dirs);
    return c.createSandboxes(req).getFirst();
  }

  private static long call(SpindleClient c, String id, String export, long... args) {
    return c.call(id, export, args).getFirst();
  }

  private static void check(long got, long want, String what) {
    if (got != want) {
      throw new IllegalStateException(what + ": got " + got + ", want " + want);
    }
  }

  /** The bytes filetree.c writes into file {@code i} (its xorshift stream, seeded with i). */
  static byte[] content(int i, int size) {
    byte[] out = new byte[size];
    long x = i * 0x9E3779B97F4A7C15L + 1;
    for (int k = 0; k < size; k++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      out[k] = (byte) x;
    }
    return out;
  }

  private static void writeTree(Path root, int n, int size) throws IOException {
    for (int i = 0; i < n; i++) {
      Path d = root.resolve(String.format("d%03d", i / 100));
      Files.createDirectories(d);
      Files.write(d.resolve(String.format("f%05d", i)), content(i, size));
    }
  }

  /** What {@code read_tree(treeFiles, 100)} returns: the byte sum of every 100th file. */
  private long expectedSum() {
    long sum = 0;
    for (int i = 0; i < treeFiles; i += 100) {
      for (byte v : content(i, treeFileSize)) {
        sum += v & 0xff;
      }
    }
    return sum;
  }

  private static String token(Path home) throws IOException {
    return Files.readString(home.resolve("daemon.token")).strip();
  }

  /**
   * A node on loopback {@code port} that trusts {@code peer} and reads files under the work dir.
   */
  private Process startNode(Path home, int port, String peer) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow",
                "-Xmx2g",
                "-cp",
                System.getProperty("java.class.path"),
                DaemonMain.class.getName(),
                "--listen",
                "127.0.0.1:" + port,
                "--home",
                home.toString(),
                "--peer",
                peer,
                "--allow-path",
                work.toString(),
                "--max-timeout",
                "20m")
            .redirectErrorStream(true)
            .start();
    // A run stopped with Ctrl-C or kill leaves no node behind.
    Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
    return p;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  private static String f(double v) {
    return v >= 100 ? String.format("%.0f", v) : String.format("%.1f", v);
  }
}
