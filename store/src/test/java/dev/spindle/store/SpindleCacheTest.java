package dev.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpindleCacheTest {
  @Test
  void spindleCacheWinsWhenSet() {
    assertThat(SpindleCache.root(Map.of("SPINDLE_CACHE", "/tmp/c"), "/home/u"))
        .isEqualTo(Path.of("/tmp/c"));
  }

  @Test
  void unsetOrEmptyFallsBackToTheUserCache() {
    assertThat(SpindleCache.root(Map.of(), "/home/u")).isEqualTo(Path.of("/home/u/.cache/spindle"));
    assertThat(SpindleCache.root(Map.of("SPINDLE_CACHE", ""), "/home/u"))
        .isEqualTo(Path.of("/home/u/.cache/spindle"));
  }
}
