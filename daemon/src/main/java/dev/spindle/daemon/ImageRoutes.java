package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.ImageList;
import dev.spindle.client.Api.MakeImage;

/** {@code /v1/images}: images and snapshots, one tag namespace. */
final class ImageRoutes {
  private final Catalog catalog;

  ImageRoutes(Catalog catalog) {
    this.catalog = catalog;
  }

  void register(Router r) {
    r.add("POST", "/v1/images", this::make);
    r.add("GET", "/v1/images", x -> x.json(new ImageList(catalog.list())));
    r.add("GET", "/v1/images/{tag}", x -> x.json(catalog.get(x.param("tag"))));
    r.add("POST", "/v1/images/{tag}/compact", x -> x.json(catalog.compact(x.param("tag"))));
    r.add("DELETE", "/v1/images/{tag}", x -> {
      // force is accepted as a synonym: both remove the dependents with the tag.
      catalog.delete(x.param("tag"), x.flag("cascade") || x.flag("force"));
      x.noContent();
    });
  }

  private void make(Exchange x) throws Exception {
    MakeImage m = x.body(MakeImage.class);
    ImageInfo i = catalog.make(m);
    if ("failed".equals(i.status())) {
      throw new ApiError(422, "make_failed", i.error());
    }
    x.json(Boolean.FALSE.equals(m.awaitReady()) ? 202 : 201, i);
  }
}
