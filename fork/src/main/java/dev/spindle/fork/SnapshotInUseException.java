package dev.spindle.fork;

import dev.spindle.store.Tag;
import java.io.IOException;
import java.util.List;

/**
 * A snapshot cannot be deleted: other snapshots read pages through it (incremental snapshots,
 * format version 2), or a snapshot being written does. Compact the dependents ({@link
 * SnapshotStore#compact}) or delete them first.
 */
public final class SnapshotInUseException extends IOException {
  private final transient List<Tag> dependents;

  SnapshotInUseException(Tag tag, List<Tag> dependents, String why) {
    super(
        "snapshot '"
            + tag.value()
            + "' cannot be deleted: "
            + (why != null
                ? why
                : "snapshots read pages through it: "
                    + String.join(", ", dependents.stream().map(Tag::value).toList())
                    + " (compact them first)"));
    this.dependents = List.copyOf(dependents);
  }

  /** The snapshots reading through it (empty when a write in flight is the reason). */
  public List<Tag> dependents() {
    return dependents;
  }
}
