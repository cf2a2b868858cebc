package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.fork.SnapshotStatus;
import dev.spindle.store.Tag;
import java.util.concurrent.CompletableFuture;

/**
 * Takes a running sandbox's snapshot under a tag: claims the tag (409 when taken), hands the guest
 * to the {@link SnapshotService} with the guest's lock held (its pause), and settles the tag's row
 * when the files are written. One path for {@code /v1} and {@code /e2b}.
 */
public final class GuestSnapshots {
  private final Catalog catalog;
  private final SnapshotService service;

  GuestSnapshots(Catalog catalog, SnapshotService service) {
    this.catalog = catalog;
    this.service = service;
  }

  /** The row as claimed (status {@code writing}), and the future of the settled one. */
  public record Taken(ImageInfo claimed, CompletableFuture<ImageInfo> settled) {}

  public Taken take(NodeSandbox g, Tag tag, SnapshotService.Mode mode) throws Exception {
    if (!g.isReactor()) {
      throw ApiError.conflict(
          "not_a_reactor",
          "sandbox " + g.id + " is a command module; only reactors can be " + "snapshotted");
    }
    catalog.claim(
        Catalog.row(
            tag.value(),
            Catalog.SNAPSHOT,
            SnapshotStatus.WRITING,
            "sandbox:" + g.id,
            g.image,
            null));
    CompletableFuture<Void> done;
    double pauseMs;
    try {
      synchronized (g) {
        // The guest is held (no call runs) only while the snapshot is taken: its pause.
        long t0 = System.nanoTime();
        done = service.snapshot(g, tag, mode);
        pauseMs = (System.nanoTime() - t0) / 1e6;
      }
    } catch (Exception | Error e) {
      catalog.release(tag.value());
      throw e;
    }
    ImageInfo claimed = catalog.get(tag.value());
    CompletableFuture<ImageInfo> settled =
        done.handle(
            (ok, err) -> {
              if (err != null) {
                catalog.fail(tag.value(), "snapshot failed: " + err.getMessage());
                return catalog.get(tag.value());
              }
              ImageInfo row = catalog.get(tag.value());
              return catalog.settle(
                  new ImageInfo(
                      tag.value(),
                      Catalog.SNAPSHOT,
                      "ready",
                      row.source(),
                      null,
                      null,
                      null,
                      null,
                      null,
                      row.parent(),
                      row.createdAt(),
                      null,
                      null,
                      pauseMs,
                      null,
                      null,
                      null));
            });
    return new Taken(claimed, settled);
  }
}
