package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A catalog row's lineage: its ancestors (parent first, up to the image a chain starts from), the
 * chain depth (how many snapshots stand between it and that image), and its direct dependents.
 */
final class Lineage {
  private final StateDb db;

  Lineage(StateDb db) {
    this.db = db;
  }

  /** {@code i} with its lineage filled in from the database. */
  ImageInfo of(ImageInfo i) {
    List<String> ancestors = new ArrayList<>();
    Set<String> seen = new HashSet<>(List.of(i.tag()));
    for (String p = i.parent(); p != null && seen.add(p); ) {
      ancestors.add(p);
      p = db.get(p).map(ImageInfo::parent).orElse(null);
    }
    List<String> dependents = db.children(i.tag()).stream().map(ImageInfo::tag).toList();
    int depth = Catalog.SNAPSHOT.equals(i.kind()) ? ancestors.size() : 0;
    return ImageRow.from(i).lineage(depth, ancestors, dependents).build();
  }
}
