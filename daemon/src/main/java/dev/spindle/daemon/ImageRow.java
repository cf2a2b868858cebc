package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.fork.SnapshotStatus;
import java.util.List;

/**
 * An {@link ImageInfo} built by naming its fields rather than by 13 (or 17) positions, most of them
 * null: a catalog row ({@link #of}) or a copy of one with some fields changed ({@link #from}).
 */
final class ImageRow {
  private final String tag;
  private final String kind;
  private String status;
  private String source;
  private String ref;
  private String root;
  private String commit;
  private Long sizeBytes;
  private Integer objects;
  private String parent;
  private String createdAt;
  private String updatedAt;
  private String error;
  private Double pauseMs;
  private Integer chainDepth;
  private List<String> ancestors;
  private List<String> dependents;

  private ImageRow(String tag, String kind) {
    this.tag = tag;
    this.kind = kind;
  }

  /** A row of {@code kind} ({@link Catalog#IMAGE} or {@link Catalog#SNAPSHOT}) for {@code tag}. */
  static ImageRow of(String tag, String kind, SnapshotStatus status) {
    return new ImageRow(tag, kind).status(status);
  }

  /** A copy of {@code i}, every field included. */
  static ImageRow from(ImageInfo i) {
    ImageRow r = new ImageRow(i.tag(), i.kind());
    r.status = i.status();
    r.source = i.source();
    r.ref = i.ref();
    r.root = i.root();
    r.commit = i.commit();
    r.sizeBytes = i.sizeBytes();
    r.objects = i.objects();
    r.parent = i.parent();
    r.createdAt = i.createdAt();
    r.updatedAt = i.updatedAt();
    r.error = i.error();
    r.pauseMs = i.pauseMs();
    r.chainDepth = i.chainDepth();
    r.ancestors = i.ancestors();
    r.dependents = i.dependents();
    return r;
  }

  /** Where a tag stands; the snapshot statuses are every tag's (one namespace). */
  ImageRow status(SnapshotStatus s) {
    status = s.json();
    return this;
  }

  ImageRow source(String s) {
    source = s;
    return this;
  }

  ImageRow ref(String s) {
    ref = s;
    return this;
  }

  /** An image's root tree and commit ids. */
  ImageRow tree(String rootId, String commitId) {
    root = rootId;
    commit = commitId;
    return this;
  }

  ImageRow size(long bytes, int objectCount) {
    sizeBytes = bytes;
    objects = objectCount;
    return this;
  }

  ImageRow parent(String tagOfParent) {
    parent = tagOfParent;
    return this;
  }

  ImageRow createdAt(String instant) {
    createdAt = instant;
    return this;
  }

  ImageRow error(String why) {
    error = why;
    return this;
  }

  /** The lineage the node adds when it answers ({@link Lineage}). */
  ImageRow lineage(int depth, List<String> ancestorTags, List<String> dependentTags) {
    chainDepth = depth;
    ancestors = ancestorTags;
    dependents = dependentTags;
    return this;
  }

  ImageInfo build() {
    return new ImageInfo(
        tag,
        kind,
        status,
        source,
        ref,
        root,
        commit,
        sizeBytes,
        objects,
        parent,
        createdAt,
        updatedAt,
        error,
        pauseMs,
        chainDepth,
        ancestors,
        dependents);
  }
}
