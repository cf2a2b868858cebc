package dev.spindle.image.lazy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The object cache on its own: verification, LRU order across restarts, pins. */
class ObjectCacheTest {
  @TempDir Path dir;

  private final List<ObjectId> fetched = new ArrayList<>();

  private static byte[] blob(char c) {
    return String.valueOf(c).repeat(1000).getBytes(StandardCharsets.US_ASCII);
  }

  private byte[] read(ObjectCache cache, byte[] content) throws IOException {
    ObjectId id = ObjectCache.idOf(content);
    return cache.blob(
        id,
        content.length,
        (i, size) -> {
          fetched.add(i);
          return content;
        });
  }

  @Test
  void aBlobThatDoesNotHashToItsIdIsRefusedAndNotStored() throws IOException {
    ObjectCache cache = ObjectCache.unshared(dir);
    ObjectId id = ObjectCache.idOf(blob('a'));
    assertThatThrownBy(() -> cache.blob(id, 1000, (i, size) -> blob('b')))
        .hasMessageContaining("object " + id.name() + " refused")
        .hasMessageContaining(ObjectCache.idOf(blob('b')).name());
    assertThat(cache.stats().objects()).isZero();
    assertThat(ObjectCache.unshared(dir).stats().objects()).isZero();
  }

  @Test
  void evictsLeastRecentlyReadFirstAndTheOrderSurvivesARestart() throws IOException {
    ObjectCache cache = ObjectCache.unshared(dir);
    read(cache, blob('a'));
    read(cache, blob('b'));
    read(cache, blob('c'));
    assertThat(read(cache, blob('a'))).isEqualTo(blob('a')); // a hit: now b is the oldest
    assertThat(fetched).hasSize(3);
    assertThat(cache.stats().hits()).isEqualTo(1);

    ObjectCache restarted = ObjectCache.unshared(dir);
    assertThat(restarted.stats().objects()).isEqualTo(3);
    assertThat(restarted.stats().bytes()).isEqualTo(3000);
    restarted.cap(2000);
    assertThat(restarted.stats().evictions()).isEqualTo(1);
    read(restarted, blob('a'));
    read(restarted, blob('c'));
    assertThat(fetched).hasSize(3); // a and c stayed
    read(restarted, blob('b'));
    assertThat(fetched).hasSize(4); // b was the one evicted, fetched again
  }

  @Test
  void aPinnedBlobIsNeverEvicted() throws IOException {
    ObjectCache cache = ObjectCache.unshared(dir);
    read(cache, blob('a'));
    read(cache, blob('b'));
    try (ObjectCache.Pin _ = cache.pin(ObjectCache.idOf(blob('a')))) {
      cache.cap(1000); // a is the least recently used, but being read
    }
    read(cache, blob('a'));
    assertThat(fetched).hasSize(2);
    read(cache, blob('b'));
    assertThat(fetched).hasSize(3);
  }

  @Test
  void aDamagedCachedFileIsDroppedAndFetchedAgain() throws IOException {
    ObjectCache cache = ObjectCache.unshared(dir);
    read(cache, blob('a'));
    String n = ObjectCache.idOf(blob('a')).name();
    java.nio.file.Files.write(dir.resolve(n.substring(0, 2)).resolve(n.substring(2)), blob('x'));
    assertThat(read(cache, blob('a'))).isEqualTo(blob('a'));
    assertThat(fetched).hasSize(2);
  }

  @Test
  void theCapIsReplacedWholeNeverWrittenInPlace() throws IOException {
    ObjectCache cache = ObjectCache.unshared(dir);
    cache.cap(5000);
    cache.cap(123);
    assertThat(java.nio.file.Files.readString(dir.resolve("cache-size"))).isEqualTo("123");
    try (var names = java.nio.file.Files.list(dir)) {
      assertThat(names.map(p -> p.getFileName().toString()))
          .containsExactly("cache-size"); // no temporary left
    }
    assertThat(ObjectCache.unshared(dir).stats().cap()).isEqualTo(123);
  }
}
