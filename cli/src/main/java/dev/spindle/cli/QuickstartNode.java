package dev.spindle.cli;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import dev.spindle.daemon.AccessOptions;
import dev.spindle.daemon.Daemon;
import dev.spindle.daemon.DaemonConfig;
import dev.spindle.daemon.SampleGuest;
import dev.spindle.store.SpindleHome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The node part of {@code spindle quickstart}: an embedded daemon on a free loopback port, an image
 * made over the API, a real guest started from that image and called over the API; each step timed
 * into the quickstart's table.
 */
final class QuickstartNode {
  static final String TAG = "quickstart-node";
  static final String GUEST = "bin/guest.wasm";
  static final int CALLS = 100;

  private QuickstartNode() {}

  /** Puts the sample guest into the sample tree, so the image carries the module the node runs. */
  static void writeGuest(Path sampleRoot) throws IOException {
    Files.write(
        Files.createDirectories(sampleRoot.resolve("bin")).resolve("guest.wasm"),
        SampleGuest.wasm());
  }

  static void run(SpindleHome home, Path sample, Map<String, Double> times) throws Exception {
    long t = System.nanoTime();
    // The embedded node makes its image from the sample tree, so that tree is its one --allow-path.
    try (Daemon node =
        Daemon.start(
            DaemonConfig.defaults(home).listen("127.0.0.1:0"),
            new AccessOptions(List.of(), List.of(sample)))) {
      // The node listens once start returns; the client's own set-up (the JDK HttpClient, 30-40
      // ms) is the caller's, not the node's.
      times.put("node start (embedded daemon)", ms(t));
      SpindleClient c = SpindleClient.connect(node.url(), node.token());
      System.out.println(
          "node: embedded daemon at " + node.url() + " (token in " + node.tokenFile() + ")");

      deleteIfPresent(c, TAG);
      t = System.nanoTime();
      ImageInfo img = c.makeImage(new MakeImage(sample.toString(), TAG));
      times.put("image make over the API", ms(t));
      System.out.println(
          "node: made image '" + TAG + "' (" + img.status() + ", root " + img.root() + ")");

      t = System.nanoTime();
      String id = c.createSandboxes(new CreateSandboxes(Wasm.inImage(TAG, GUEST))).getFirst().id();
      times.put("sandbox start from the image (API)", ms(t));
      t = System.nanoTime();
      List<Long> sum = c.call(id, "add", 40, 2);
      times.put("first call (API)", ms(t));
      t = System.nanoTime();
      long last = 0;
      for (int i = 0; i < CALLS; i++) {
        last = c.call(id, "next").getFirst();
      }
      times.put(CALLS + " calls (API), per call", ms(t) / CALLS);
      System.out.println(
          "node: sandbox "
              + id
              + ": add(40, 2) = "
              + sum.getFirst()
              + ", next() x"
              + CALLS
              + " = "
              + last);

      snapshotAndBranch(c, id, times);

      c.deleteSandbox(id);
    }
  }

  /**
   * Snapshots the running sandbox live (the guest keeps its state; pages are written in the
   * background), then branches 100 children from it over the API and calls each: every child sees
   * the warm state and none sees another's writes.
   */
  static void snapshotAndBranch(SpindleClient c, String sandboxId, Map<String, Double> times)
      throws Exception {
    String tag = "quickstart-snap";
    deleteIfPresent(c, tag);
    long parentNext = c.call(sandboxId, "next").getFirst();
    long t = System.nanoTime();
    c.snapshot(sandboxId, new Snapshot(tag, "live", true));
    times.put("snapshot (live, API, until written)", ms(t));
    t = System.nanoTime();
    List<SandboxInfo> children = c.createSandboxes(CreateSandboxes.branch(tag, 100));
    times.put("branch 100 children (API)", ms(t));
    t = System.nanoTime();
    long same = 0;
    for (SandboxInfo child : children) {
      if (c.call(child.id(), "next").getFirst() == parentNext + 1) {
        same++;
      }
    }
    times.put("call each child once (API), per call", ms(t) / children.size());
    System.out.println(
        "node: snapshot '"
            + tag
            + "' (live), 100 children branched; "
            + same
            + " of 100 continued the parent's counter from "
            + parentNext
            + " to "
            + (parentNext + 1));
    if (same != children.size()) {
      throw new IllegalStateException("children did not resume the parent's state");
    }
    for (SandboxInfo child : children) {
      c.deleteSandbox(child.id());
    }
  }

  private static void deleteIfPresent(SpindleClient c, String tag) {
    try {
      c.deleteImage(tag, true);
    } catch (ApiException e) {
      if (e.status() != 404) {
        throw e;
      }
    }
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }
}
