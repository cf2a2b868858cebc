package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator's {@code --volume NAME=DIR} values, checked on a real file system. */
class VolumesTest {
  @TempDir Path tmp;

  @Test
  void volumesAreNamedRealDirectoriesApartFromTheHomeAndEachOther() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path link = Files.createSymbolicLink(tmp.resolve("link"), data);
    Volumes v = Volumes.of(Volumes.parse(List.of("data=" + link)), home);
    assertThat(v.path("data")).as("resolved once, at start").isEqualTo(data.toRealPath());
    assertThat(v.nameOf(data.toRealPath())).isEqualTo("data");
    assertThat(v.nameOf(link)).isNull();
    assertThat(v.path("other")).isNull();

    assertThatThrownBy(() -> Volumes.of(Map.of("h", home.resolve("..")), home))
        .hasMessageContaining("overlaps the node's home");
    Path inside = Files.createDirectories(home.resolve("files"));
    assertThatThrownBy(() -> Volumes.of(Map.of("h", inside), home))
        .hasMessageContaining("overlaps the node's home");
    Path sub = Files.createDirectories(data.resolve("sub"));
    assertThatThrownBy(() -> Volumes.of(Volumes.parse(List.of("a=" + data, "b=" + sub)), home))
        .hasMessageContaining("overlaps volume a");
    Path file = Files.writeString(tmp.resolve("file"), "x");
    assertThatThrownBy(() -> Volumes.of(Map.of("f", file), home))
        .hasMessageContaining("not a directory");
    assertThatThrownBy(() -> Volumes.of(Map.of("m", tmp.resolve("missing")), home))
        .hasMessageContaining("not a directory on this host");
  }

  @Test
  void specsAreNameEqualsAbsoluteDir() {
    assertThat(Volumes.parse(List.of("a=/x", "b.c-1=/y"))).containsKeys("a", "b.c-1");
    assertThatThrownBy(() -> Volumes.parse(List.of("/x"))).hasMessageContaining("NAME=DIR");
    assertThatThrownBy(() -> Volumes.parse(List.of("A=/x"))).hasMessageContaining("a name is");
    assertThatThrownBy(() -> Volumes.parse(List.of("../a=/x"))).hasMessageContaining("a name is");
    assertThatThrownBy(() -> Volumes.parse(List.of("a=x"))).hasMessageContaining("absolute");
    assertThatThrownBy(() -> Volumes.parse(List.of("a=/x", "a=/y")))
        .hasMessageContaining("given twice");
    assertThatThrownBy(() -> Volumes.parse(List.of("a=/x:ro")))
        .hasMessageContaining("read-only volumes are not supported");
  }
}
