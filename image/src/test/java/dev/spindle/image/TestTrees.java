package dev.spindle.image;

import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.OffsetDateTime;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/** Trees on disk for tests: a fixed one with every kind of entry, and random ones from a seed. */
public final class TestTrees {
  public static final OffsetDateTime DATE = OffsetDateTime.parse("2026-01-01T00:00:00Z");

  private TestTrees() {}

  /** Files, nesting, Git's tricky ordering, hidden, executable, symlinks, empty dir and file. */
  public static Path fixed(Path root) throws IOException {
    write(root.resolve("README.md"), "hello\n");
    write(root.resolve(".hidden"), "dot file\n");
    write(root.resolve("a-b"), "dash sorts before slash\n");
    write(root.resolve("a/b/c/d/e/deep.txt"), "five levels down\n");
    write(root.resolve("a/x.txt"), "x\n");
    write(root.resolve("a.txt"), "dot sorts before slash too\n");
    write(root.resolve("empty"), "");
    write(root.resolve("unicodé/naïve.txt"), "non-ASCII names\n");
    Path exe = write(root.resolve("bin/tool"), "#!/bin/sh\necho tool\n");
    Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectories(root.resolve("empty-dir/nested-empty"));
    Files.createSymbolicLink(root.resolve("link-to-a"), Path.of("a"));
    Files.createSymbolicLink(root.resolve("a/up"), Path.of("../README.md"));
    Files.createSymbolicLink(root.resolve("dangling"), Path.of("no/such/file"));
    byte[] big = new byte[3 << 20];
    new Random(7).nextBytes(big);
    Files.createDirectories(root.resolve("blobs"));
    Files.write(root.resolve("blobs/big.bin"), big);
    return root;
  }

  /** A random tree: {@code files} files in nested directories, some executable or symlinks. */
  public static Path random(Path root, long seed, int files) throws IOException {
    Random r = new Random(seed);
    String[] words = {"src", "lib", "docs", "a", "a-b", "a.b", "A", "z", "x_y", "data"};
    for (int i = 0; i < files; i++) {
      StringBuilder p = new StringBuilder();
      int depth = r.nextInt(4);
      for (int d = 0; d < depth; d++) {
        p.append(words[r.nextInt(words.length)]).append("_d/");
      }
      p.append(words[r.nextInt(words.length)]).append(i);
      Path f = root.resolve(p.toString());
      int kind = r.nextInt(10);
      if (kind == 0) {
        Files.createDirectories(f.getParent());
        Files.createSymbolicLink(f, Path.of("target-" + r.nextInt(100)));
      } else {
        byte[] b = new byte[r.nextInt(kind == 1 ? 70_000 : 2_000)];
        // Similar content across files so the packer has deltas to find.
        for (int j = 0; j < b.length; j++) {
          b[j] =
              (byte)
                  ("spindle images are git packs ".charAt(j % 29) + (r.nextInt(50) == 0 ? 1 : 0));
        }
        write(f, b);
        if (kind == 2) {
          Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-x---"));
        }
      }
    }
    return root;
  }

  public static Path write(Path p, String s) throws IOException {
    return write(p, s.getBytes(StandardCharsets.UTF_8));
  }

  public static Path write(Path p, byte[] b) throws IOException {
    Files.createDirectories(p.getParent());
    return Files.write(p, b);
  }

  public static void delete(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  public static Path makeImage(Path source, Path target) throws IOException {
    new ImageMaker(MakeOptions.defaults().withDate(DATE), Progress.NONE)
        .make(source.toString(), target);
    return target;
  }
}
