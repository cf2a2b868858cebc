package dev.spindle.cli;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.SpindleClient;

/** {@code image make} and {@code image ls} when {@code --node} sends them to a daemon. */
final class RemoteImages {
  private RemoteImages() {}

  static int make(SpindleClient node, String source, String tag, String ref, boolean wait)
      throws InterruptedException {
    long t0 = System.nanoTime();
    ImageInfo i = node.makeImage(new MakeImage(source, tag, ref, wait));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("tag     %s%n", i.tag());
    System.out.printf("status  %s%n", i.status());
    if (i.ready()) {
      System.out.printf("commit  %s%n", i.commit());
      System.out.printf("root    %s%n", i.root());
      System.out.printf(
          "objects %d, %d bytes, made in %d ms by %s%n",
          i.objects(), i.sizeBytes(), ms, node.base());
    } else {
      System.out.printf(
          "poll    spindle image ls --node %s   (or GET /v1/images/%s)%n", node.base(), i.tag());
    }
    return 0;
  }

  static int list(SpindleClient node) {
    for (ImageInfo i : node.images()) {
      String what =
          i.ready()
              ? i.root() + " " + String.format("%10d bytes", i.sizeBytes())
              : i.status().toUpperCase(java.util.Locale.ROOT)
                  + (i.error() != null ? ": " + i.error() : "");
      System.out.printf(
          "%-24s %-8s %s%s%n",
          i.tag(), i.kind(), what, i.parent() != null ? "  (from " + i.parent() + ")" : "");
    }
    return 0;
  }
}
