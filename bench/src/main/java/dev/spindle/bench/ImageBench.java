package dev.spindle.bench;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.ImageVerifier;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleCache;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The image benchmark ({@code bench/image}): on real trees nobody here wrote, Spindle's image
 * beside git's aggressive pack, tar.gz and squashfs (size), beside {@code git add+commit+gc} (make
 * time), indexed beside lazy lookups, and image reads beside the same files on disk. All baselines
 * run in the same process run, so the ratios hold on a noisy shared machine.
 *
 * <p>Usage: {@code bench/image [--quick] [LABEL=DIR_OR_REPO ...]}; without trees it uses
 * /usr/lib/python3.11, /usr/share/doc, python3.11-doc's HTML, Spindle's own Git repository and a
 * synthetic 100k-file tree.
 */
public final class ImageBench {
  private static final Random RANDOM = new Random(42);
  private final Path work;
  private final boolean quick;
  private final Table sizes =
      new Table(
          "tree",
          "files",
          "content",
          "spindle image",
          "git gc --aggressive",
          "image/git",
          "tar.gz",
          "image/tar.gz",
          "squashfs zstd",
          "image/squashfs");
  private final Table times =
      new Table("tree", "spindle make", "git add+commit+gc", "make/git", "verify", "verify MB/s");
  private final Table lookups =
      new Table(
          "tree",
          "open indexed",
          "open lazy",
          "lookup indexed",
          "lookup lazy",
          "lazy/indexed",
          "depth");
  private final Table reads =
      new Table("tree", "image random read", "disk random read", "image/disk", "files read");

  private ImageBench(Path work, boolean quick) {
    this.work = work;
    this.quick = quick;
  }

  public static void main(String[] args) throws Exception {
    boolean quick = false;
    List<String[]> trees = new ArrayList<>();
    for (String a : args) {
      if (a.equals("--quick")) {
        quick = true;
      } else if (a.contains("=")) {
        trees.add(a.split("=", 2));
      } else {
        System.err.println("usage: bench/image [--quick] [LABEL=DIR_OR_REPO ...]");
        System.exit(2);
      }
    }
    Path cache = SpindleCache.root().resolve("bench");
    Files.createDirectories(cache);
    if (trees.isEmpty()) {
      trees.add(new String[] {"python3.11-lib", "/usr/lib/python3.11"});
      trees.add(new String[] {"share-doc", "/usr/share/doc"});
      trees.add(new String[] {"python-html-doc", "/usr/share/doc/python3.11/html"});
      trees.add(new String[] {"spindle-git", System.getProperty("spindle.repo", ".")});
      trees.add(
          new String[] {
            "synthetic-100k", synthetic(cache.resolve("tree-100k"), 100_000).toString()
          });
    }
    Path work = Files.createTempDirectory("spindle-bench-");
    try {
      ImageBench b = new ImageBench(work, quick);
      for (String[] t : trees) {
        Path p = Path.of(t[1]);
        if (!Files.isDirectory(p)) {
          System.err.println("skipping " + t[0] + ": " + p + " is not a directory");
          continue;
        }
        System.err.println("== " + t[0] + " (" + p + ")");
        b.run(t[0], p);
      }
      b.print();
    } finally {
      Trees.delete(work);
    }
  }

  private void run(String label, Path source) throws Exception {
    boolean isRepo = Files.isDirectory(source.resolve(".git"));
    Path files = source;
    if (isRepo) {
      // The baselines get the same tree as plain files: HEAD's tree, checked out by git archive.
      files = Files.createDirectories(work.resolve(label + "-files"));
      Cmd.run(source, List.of("sh", "-c", "git archive HEAD | tar -x -C '" + files + "'"));
    }
    List<Path> all = regularFiles(files);
    long content = 0;
    for (Path f : all) {
      content += Files.size(f);
    }
    boolean synthetic = label.startsWith("synthetic");

    // Make.
    Path img = work.resolve(label + ".img");
    long t0 = System.nanoTime();
    new ImageMaker(
            MakeOptions.defaults().withDate(OffsetDateTime.parse("2026-01-01T00:00:00Z")),
            Progress.NONE)
        .make(source.toString(), img);
    double makeS = secs(t0);
    long imageSize = Files.size(img);

    // Baselines: git add+commit+gc (time), gc --aggressive pack (size), tar.gz, squashfs.
    Path repo = Files.createDirectories(work.resolve(label + "-git"));
    String gd = "--git-dir=" + repo.resolve(".git");
    String wt = "--work-tree=" + files;
    t0 = System.nanoTime();
    Cmd.git(repo, "init", "-q");
    Cmd.git(repo, gd, wt, "add", "-A", "-f");
    Cmd.git(repo, gd, wt, "commit", "-q", "-m", "bench");
    Cmd.git(repo, gd, "gc", "-q");
    double gitS = secs(t0);
    long gitPack = -1;
    if (!quick && !synthetic) {
      Cmd.git(repo, gd, "gc", "-q", "--aggressive", "--prune=now");
      gitPack = packSize(repo.resolve(".git/objects/pack"));
    } else {
      gitPack = packSize(repo.resolve(".git/objects/pack"));
    }
    long tgz =
        Long.parseLong(Cmd.run(files, List.of("sh", "-c", "tar -czf - . 2>/dev/null | wc -c")));
    long sqfs = -1;
    if (Cmd.available("mksquashfs") && !synthetic) {
      Path sq = work.resolve(label + ".sqfs");
      Cmd.run(
          work,
          List.of(
              "mksquashfs",
              files.toString(),
              sq.toString(),
              "-comp",
              "zstd",
              "-noappend",
              "-quiet",
              "-no-progress"));
      sqfs = Files.size(sq);
      Files.delete(sq);
    }
    sizes.row(
        label + (quick || synthetic ? " (git gc, not aggressive)" : ""),
        all.size(),
        Table.mb(content),
        Table.mb(imageSize),
        Table.mb(gitPack),
        Table.ratio(imageSize, gitPack),
        Table.mb(tgz),
        Table.ratio(imageSize, tgz),
        sqfs < 0 ? "n/a" : Table.mb(sqfs),
        sqfs < 0 ? "n/a" : Table.ratio(imageSize, sqfs));

    // Verify.
    t0 = System.nanoTime();
    VerifyReport r = new ImageVerifier(Progress.NONE).verify(img);
    double verifyS = secs(t0);
    if (!r.ok()) {
      throw new IllegalStateException("benchmark image failed verify: " + r.problems());
    }
    times.row(
        label,
        String.format("%.2f s", makeS),
        String.format("%.2f s", gitS),
        Table.ratio(makeS, gitS),
        String.format("%.2f s", verifyS),
        String.format("%.0f", r.unpackedBytes() / 1e6 / verifyS));

    // Open and lookups, both modes.
    List<String> paths = deepest(files, all, 2000);
    int depth = paths.isEmpty() ? 0 : paths.getFirst().split("/").length;
    double openIdx = openMillis(img, AccessMode.INDEXED);
    double openLazy = openMillis(img, AccessMode.LAZY);
    double lkIdx = lookupMicros(img, AccessMode.INDEXED, paths);
    double lkLazy = lookupMicros(img, AccessMode.LAZY, paths);
    lookups.row(
        label,
        String.format("%.2f ms", openIdx),
        String.format("%.2f ms", openLazy),
        String.format("%.1f us", lkIdx),
        String.format("%.1f us", lkLazy),
        Table.ratio(lkLazy, lkIdx),
        depth);

    // Random reads: the same sample of files, from the image and from disk.
    List<Path> sample = new ArrayList<>(all);
    Collections.shuffle(sample, RANDOM);
    sample = sample.subList(0, Math.min(sample.size(), quick ? 300 : 2000));
    double[] rr = randomReads(img, files, sample);
    reads.row(
        label,
        String.format("%.0f MB/s", rr[0]),
        String.format("%.0f MB/s", rr[1]),
        Table.ratio(rr[1] > 0 ? 1 / rr[0] : 0, 1 / rr[1]),
        sample.size());
    Files.delete(img);
    Trees.delete(repo);
  }

  private void print() {
    System.out.println("\n## Size (smaller is better; target image/git <= 1.05x)\n");
    System.out.print(sizes.render());
    System.out.println("\n## Make and verify (target verify >= 200 MB/s of unpacked content)\n");
    System.out.print(times.render());
    System.out.println(
        "\n## Open and lookup, deepest paths (targets: lazy lookup <= 50 us; indexed open <= 100 ms at 100k files)\n");
    System.out.print(lookups.render());
    System.out.println(
        "\n## Random whole-file reads, warm page cache (image/disk: time ratio, lower is better)\n");
    System.out.print(reads.render());
  }

  private static double openMillis(Path img, AccessMode mode) throws IOException {
    double[] t = new double[15];
    for (int i = 0; i < t.length; i++) {
      long t0 = System.nanoTime();
      try (Image im = Image.open(img, mode)) {
        im.lookup("x");
      }
      t[i] = (System.nanoTime() - t0) / 1e6;
    }
    return median(t);
  }

  private static double lookupMicros(Path img, AccessMode mode, List<String> paths)
      throws IOException {
    try (Image im = Image.open(img, mode)) {
      for (int w = 0; w < 3; w++) { // warm-up: JIT and JGit's caches
        for (String p : paths) {
          var _ = im.lookup(p).orElseThrow(() -> new IllegalStateException("missing " + p));
        }
      }
      double[] t = new double[5];
      for (int i = 0; i < t.length; i++) {
        long t0 = System.nanoTime();
        for (String p : paths) {
          im.lookup(p);
        }
        t[i] = (System.nanoTime() - t0) / 1e3 / paths.size();
      }
      return median(t);
    }
  }

  private static double[] randomReads(Path img, Path root, List<Path> sample) throws IOException {
    List<String> rel = sample.stream().map(p -> root.relativize(p).toString()).toList();
    double imageBest = 0;
    double diskBest = 0;
    try (Image im = Image.open(img, AccessMode.INDEXED)) {
      for (int round = 0; round < 3; round++) {
        long bytes = 0;
        long t0 = System.nanoTime();
        for (String p : rel) {
          ImageEntry e = im.lookup(p).orElseThrow();
          bytes += im.read(e).length;
        }
        imageBest = Math.max(imageBest, bytes / 1e6 / secs(t0));
        bytes = 0;
        t0 = System.nanoTime();
        for (Path p : sample) {
          bytes += Files.readAllBytes(p).length;
        }
        diskBest = Math.max(diskBest, bytes / 1e6 / secs(t0));
      }
    }
    return new double[] {imageBest, diskBest};
  }

  /** Up to {@code n} paths (files or directories) at depth 5, or the deepest the tree has. */
  private static List<String> deepest(Path root, List<Path> all, int n) {
    java.util.Set<String> paths = new java.util.HashSet<>();
    for (Path p : all) {
      Path rel = root.relativize(p);
      for (int i = 1; i <= rel.getNameCount(); i++) {
        paths.add(rel.subpath(0, i).toString());
      }
    }
    int max = paths.stream().mapToInt(s -> s.split("/").length).max().orElse(0);
    int want = Math.min(5, max);
    List<String> chosen =
        new ArrayList<>(paths.stream().filter(s -> s.split("/").length == want).sorted().toList());
    Collections.shuffle(chosen, RANDOM);
    return chosen.subList(0, Math.min(n, chosen.size()));
  }

  private static List<Path> regularFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
          .filter(p -> !root.relativize(p).startsWith(".git"))
          .toList();
    }
  }

  private static long packSize(Path packDir) throws IOException {
    try (Stream<Path> s = Files.list(packDir)) {
      long total = 0;
      for (Path p :
          s.filter(p -> p.toString().endsWith(".pack") || p.toString().endsWith(".idx")).toList()) {
        total += Files.size(p);
      }
      return total;
    }
  }

  /** A cached tree of {@code n} small files, 5 levels deep, similar contents. */
  static Path synthetic(Path dir, int n) throws IOException {
    Path done = dir.resolve(".complete");
    if (Files.exists(done)) {
      return dir.resolve("tree");
    }
    Trees.delete(dir);
    Path tree = dir.resolve("tree");
    for (int i = 0; i < n; i++) {
      Path f =
          tree.resolve(
              String.format(
                  "d%02d/e%02d/f%02d/g%02d/file%06d.txt",
                  i % 10, (i / 10) % 10, (i / 100) % 10, (i / 1000) % 100, i));
      Files.createDirectories(f.getParent());
      Files.writeString(f, "record " + i + "\nthe same line in every file of the synthetic tree\n");
    }
    Files.writeString(done, "");
    return tree;
  }

  private static double median(double[] t) {
    double[] c = t.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
