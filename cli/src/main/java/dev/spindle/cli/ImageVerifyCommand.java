package dev.spindle.cli;

import dev.spindle.image.CommitInfo;
import dev.spindle.image.ImageVerifier;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.trust.ImageSignatures;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "verify",
    header = "Check every byte of an image; name the object and offset of any damage.",
    mixinStandardHelpOptions = true,
    description = {
      "Check an image whole: header, PACK and IDX checksums, every object's CRC and content",
      "hash, every tree entry, the path index. Prints the commit, author, root and message.",
      "Exits 1 and names the object and byte offset of each damage found."
    })
final class ImageVerifyCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Parameters(paramLabel = "TAG|FILE", description = "A tag in the store, or an image file.")
  String image;

  @Option(
      names = "--key",
      paramLabel = "KEY.pub",
      description = "Also require a signature by this public key ('image sign'); refuse otherwise.")
  Path key;

  @Override
  public Integer call() throws Exception {
    // Unchecked: verify reports on any image, signed or not (and checks --key itself).
    Path file = common.images().locateUnchecked(image);
    long t0 = System.nanoTime();
    VerifyReport r = new ImageVerifier(common.progress()).verify(file);
    double s = (System.nanoTime() - t0) / 1e9;
    CommitInfo c = r.commit();
    if (c != null) {
      System.out.println("commit: " + c.commit().name());
      System.out.println("author: " + c.authorIdent());
      System.out.println("date:   " + c.date());
      System.out.println("root:   " + c.root().name());
      System.out.println();
      for (String line : c.message().strip().split("\n")) {
        System.out.println("    " + line);
      }
      System.out.println();
    }
    System.out.printf(
        "%d objects, %.1f MB unpacked, checked in %.2f s (%.0f MB/s)%n",
        r.objects(), r.unpackedBytes() / 1e6, s, r.unpackedBytes() / 1e6 / Math.max(s, 1e-9));
    if (r.ok() && key != null) {
      try {
        System.out.println("signed by key " + ImageSignatures.verify(file, key));
      } catch (ImageSignatures.RefusedException e) {
        System.err.println("spindle: " + e.getMessage());
        return 1;
      }
    }
    if (r.ok()) {
      System.out.println("ok");
      return 0;
    }
    for (VerifyReport.Problem p : r.problems()) {
      System.err.println(file + ": " + p);
    }
    System.err.println("spindle: " + r.problems().size() + " problem(s): " + file + " is damaged");
    return 1;
  }
}
