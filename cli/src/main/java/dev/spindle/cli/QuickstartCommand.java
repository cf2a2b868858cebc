package dev.spindle.cli;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.ImageStore;
import dev.spindle.image.ImageVerifier;
import dev.spindle.image.PathResolver;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "quickstart",
    header = "Run the main path on embedded defaults and print timings.",
    mixinStandardHelpOptions = true,
    description = {
      "Run Spindle's main path on embedded defaults: write a sample tree, make an image of it,",
      "verify it, read it back in both access modes; then start an embedded node (daemon on a",
      "free loopback port), make an image and run a guest from it over the REST API, and print",
      "what each step took."
    })
final class QuickstartCommand implements Callable<Integer> {
  static final String TAG = "quickstart";

  @Mixin CommonOptions common;

  @Override
  public Integer call() throws Exception {
    Map<String, Double> times = new LinkedHashMap<>();
    Path sample = Files.createTempDirectory("spindle-sample-");
    try {
      long t = System.nanoTime();
      int files = writeSample(sample);
      QuickstartNode.writeGuest(sample);
      files++;
      times.put("write sample tree (" + files + " files)", ms(t));

      ImageStore store = common.images();
      common.home().create();
      t = System.nanoTime();
      ImageHeader h =
          store.make(
              sample.toString(),
              Tag.of(TAG),
              MakeOptions.defaults().withDate(OffsetDateTime.parse("2026-01-01T00:00:00Z")),
              common.progress());
      times.put("image make", ms(t));
      Path file = store.path(Tag.of(TAG));
      System.out.println("made image '" + TAG + "' at " + file);
      System.out.println("  root   " + h.root().name() + "  (= git write-tree of the sample)");
      System.out.println(
          "  commit "
              + h.commit().name()
              + ", "
              + h.objectCount()
              + " objects, "
              + Files.size(file)
              + " bytes");

      t = System.nanoTime();
      VerifyReport r = new ImageVerifier(common.progress()).verify(file);
      times.put("image verify", ms(t));
      if (!r.ok()) {
        r.problems().forEach(p -> System.err.println("  " + p));
        System.err.println("spindle: quickstart: verification failed");
        return 1;
      }
      System.out.println(
          "verified: " + r.objects() + " objects rehashed, every tree entry resolves");

      for (AccessMode mode : AccessMode.values()) {
        t = System.nanoTime();
        try (Image img = store.open(Tag.of(TAG), mode)) {
          ImageEntry e = new PathResolver(img).resolve("docs/latest/guide.md", true);
          String text = new String(img.read(e), StandardCharsets.UTF_8);
          times.put(
              "open + read via symlink (" + mode.name().toLowerCase(java.util.Locale.ROOT) + ")",
              ms(t));
          if (mode == AccessMode.INDEXED) {
            System.out.println(
                "read /docs/latest/guide.md (a symlinked directory): "
                    + text.lines().findFirst().orElse(""));
          }
        }
      }
      QuickstartNode.run(common.home(), sample, times);
      System.out.println();
      System.out.printf("%-40s %10s%n", "step", "ms");
      times.forEach((k, v) -> System.out.printf("%-40s %10.1f%n", k, v));
      System.out.println();
      System.out.println(
          "Next: ./spindle image ls "
              + TAG
              + " -R -l   |   ./spindle daemon   |   ./spindle doctor");
      return 0;
    } finally {
      Trees.delete(sample);
    }
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  /** A small tree with the things images must keep: nesting, an executable, a symlink. */
  static int writeSample(Path root) throws IOException {
    int n = 0;
    Files.writeString(root.resolve("README.md"), "# Sample\nA tree made by spindle quickstart.\n");
    n++;
    Path bin = Files.createDirectories(root.resolve("bin"));
    Path run = bin.resolve("run.sh");
    Files.writeString(run, "#!/bin/sh\necho hello from the image\n");
    Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
    n++;
    Path v1 = Files.createDirectories(root.resolve("docs/v1"));
    Files.writeString(v1.resolve("guide.md"), "Guide, version 1\n\nHow to use the sample.\n");
    n++;
    Files.createSymbolicLink(root.resolve("docs/latest"), Path.of("v1"));
    n++;
    Path data = Files.createDirectories(root.resolve("data/records"));
    for (int i = 0; i < 200; i++) {
      Files.writeString(
          data.resolve(String.format("r%03d.json", i)),
          "{\"id\": "
              + i
              + ", \"name\": \"record "
              + i
              + "\", \"tags\": [\"sample\", \"spindle\"]}\n");
      n++;
    }
    Files.writeString(root.resolve(".hidden"), "hidden files are kept\n");
    return n + 1;
  }
}
