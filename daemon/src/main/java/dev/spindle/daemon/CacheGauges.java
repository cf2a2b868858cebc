package dev.spindle.daemon;

import dev.spindle.image.lazy.LazyImages;
import dev.spindle.store.SpindleHome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.ToLongFunction;

/**
 * The home's object cache in {@code /metrics}: the blobs lazily pulled images on this node fetched,
 * kept and evicted (counters since start; contents and cap as on disk).
 */
final class CacheGauges {
  private CacheGauges() {}

  static void register(Metrics metrics, SpindleHome home) {
    gauge(metrics, home, "spindle_object_cache_hits", LazyImages.CacheStats::hits);
    gauge(metrics, home, "spindle_object_cache_misses", LazyImages.CacheStats::misses);
    gauge(metrics, home, "spindle_object_cache_fetched_bytes", LazyImages.CacheStats::bytesFetched);
    gauge(metrics, home, "spindle_object_cache_evictions", LazyImages.CacheStats::evictions);
    gauge(metrics, home, "spindle_object_cache_objects", LazyImages.CacheStats::objects);
    gauge(metrics, home, "spindle_object_cache_bytes", LazyImages.CacheStats::bytes);
    gauge(metrics, home, "spindle_object_cache_cap_bytes", LazyImages.CacheStats::cap);
  }

  private static void gauge(
      Metrics metrics, SpindleHome home, String name, ToLongFunction<LazyImages.CacheStats> field) {
    metrics.gauge(
        name,
        () -> {
          try {
            return field.applyAsLong(LazyImages.cacheStats(home));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }
}
