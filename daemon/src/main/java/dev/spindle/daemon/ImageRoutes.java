package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.ImageList;
import dev.spindle.client.Api.MakeImage;

/** {@code /v1/images}: images and snapshots, one tag namespace. */
final class ImageRoutes {
  private final Catalog catalog;
  private final NodePolicy policy;

  ImageRoutes(Catalog catalog, NodePolicy policy) {
    this.catalog = catalog;
    this.policy = policy;
  }

  void register(Router r) {
    r.add("POST", "/v1/images", this::make);
    r.add("GET", "/v1/images", x -> x.json(new ImageList(catalog.list())));
    r.add("GET", "/v1/images/{tag}", x -> x.json(catalog.get(x.param("tag"))));
    r.add("POST", "/v1/images/{tag}/compact", x -> x.json(catalog.compact(x.param("tag"))));
    r.add(
        "DELETE",
        "/v1/images/{tag}",
        x -> {
          // force is accepted as a synonym: both remove the dependents with the tag.
          catalog.delete(x.param("tag"), x.flag("cascade") || x.flag("force"));
          x.noContent();
        });
  }

  private void make(Exchange x) throws Exception {
    MakeImage m = x.body(MakeImage.class);
    if (m.source() != null && !m.source().isBlank()) {
      Catalog.tag(m.tag(), "tag"); // a bad tag is named before the source is looked at
      // A client names a source; the node reads or fetches it only where its operator allows.
      m = new MakeImage(policy.requireImageSource(m.source()), m.tag(), m.ref(), m.awaitReady());
    }
    ImageInfo i = catalog.make(m);
    if ("failed".equals(i.status())) {
      throw new ApiError(422, "make_failed", i.error());
    }
    x.json(Boolean.FALSE.equals(m.awaitReady()) ? 202 : 201, i);
  }
}
