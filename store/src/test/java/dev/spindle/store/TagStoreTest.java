package dev.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TagStoreTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "a.b",
        "../x",
        "a/b",
        "with space",
        "x\n",
        "ü",
        "12345678901234567890123456789012345678901234567890123456789012345"
      })
  void badTagsAreRefusedWithTheRule(String tag) {
    assertThatThrownBy(() -> Tag.of(tag))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 to 64 of A-Z a-z 0-9 _ -");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"a", "A-b_9", "1234567890123456789012345678901234567890123456789012345678901234"})
  void goodTags(String tag) {
    assertThat(Tag.of(tag).value()).isEqualTo(tag);
  }

  @Test
  void writeReplacesWholeAndListsOnlyFinishedFiles() throws Exception {
    TagStore s = new TagStore(tmp.resolve("images"), ".img");
    s.write(Tag.of("one"), ch -> ch.write(java.nio.ByteBuffer.wrap("first".getBytes())));
    s.write(Tag.of("one"), ch -> ch.write(java.nio.ByteBuffer.wrap("second".getBytes())));
    assertThat(Files.readString(s.require(Tag.of("one")))).isEqualTo("second");
    // An interrupted write leaves only a hidden temp file, never a tag.
    assertThatThrownBy(
            () ->
                s.write(
                    Tag.of("two"),
                    ch -> {
                      ch.write(java.nio.ByteBuffer.wrap("half".getBytes()));
                      throw new IOException("crash mid-write");
                    }))
        .hasMessageContaining("crash");
    assertThat(s.list()).containsExactly(Tag.of("one"));
    assertThat(s.exists(Tag.of("two"))).isFalse();
    try (Stream<Path> files = Files.list(s.directory())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("one.img");
    }
    assertThatThrownBy(() -> s.require(Tag.of("two")))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("no image tagged 'two'");
    assertThat(s.delete(Tag.of("one"))).isTrue();
    assertThat(s.list()).isEmpty();
  }

  @Test
  void atomicCopyAndBytes() throws Exception {
    Path a = tmp.resolve("a");
    AtomicFiles.write(a, "hello".getBytes(StandardCharsets.UTF_8));
    AtomicFiles.copy(a, tmp.resolve("sub/b"));
    assertThat(Files.readString(tmp.resolve("sub/b"))).isEqualTo("hello");
  }

  @Test
  void homeComesFromTheEnvironment() {
    assertThat(SpindleHome.fromEnvironment(Map.of("SPINDLE_HOME", "/x/y"), "/home/u").root())
        .isEqualTo(Path.of("/x/y"));
    assertThat(SpindleHome.fromEnvironment(Map.of(), "/home/u").images())
        .isEqualTo(Path.of("/home/u/.spindle/images"));
  }
}
