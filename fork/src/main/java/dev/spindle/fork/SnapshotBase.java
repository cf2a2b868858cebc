package dev.spindle.fork;

import dev.spindle.store.Tag;
import java.util.concurrent.CompletableFuture;

/**
 * The persisted snapshot a memory derives from, so that its next snapshot can be written as the
 * pages that differ from it (format version 2): the snapshot a guest was branched from, or the
 * guest's own last snapshot. {@code pageHashesSha256} completes with that snapshot's root hash once
 * it is written (it fails if the write failed): the writer checks that the tag still holds those
 * bytes, because a page never loaded by the memory is taken to be the base's page.
 */
record SnapshotBase(Tag tag, CompletableFuture<String> pageHashesSha256) {
  /** The root hash if the base is written, else null (the next snapshot is then written whole). */
  String readyRoot() {
    CompletableFuture<String> f = pageHashesSha256;
    return f.isDone() && !f.isCompletedExceptionally() ? f.join() : null;
  }
}
