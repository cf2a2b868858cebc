package dev.spindle.sandbox.overlay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.ClosedFileSystemException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The overlay through {@code java.nio.file.Files} only, over a host directory as the lower layer.
 */
class OverlayFileSystemTest {
  @TempDir Path tmp;

  private Path lower;
  private Path upper;
  private FileSystem fs;

  @BeforeEach
  void layers() throws IOException {
    lower = Files.createDirectories(tmp.resolve("lower/dir"));
    Files.writeString(lower.resolve("f"), "lower");
    lower = lower.getParent();
    upper = Files.createDirectory(tmp.resolve("upper"));
    fs = OverlayFileSystems.newFileSystem(lower, upper);
  }

  private List<String> list(String dir) throws IOException {
    try (Stream<Path> s = Files.list(fs.getPath(dir))) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aCopiedUpFileKeepsItsPermissionBits() throws IOException {
    Path tool = lower.resolve("dir/tool");
    Files.writeString(tool, "#!/bin/sh\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("r-xr-x---"));
    Files.writeString(fs.getPath("/dir/tool"), "#!/bin/sh\necho changed\n");
    assertThat(Files.getPosixFilePermissions(upper.resolve("dir/tool")))
        .as("the lower file's bits, plus the owner's write: the copy was made to be written")
        .isEqualTo(PosixFilePermissions.fromString("rwxr-x---"));
    assertThat(Files.getPosixFilePermissions(tool))
        .as("the lower file untouched")
        .isEqualTo(PosixFilePermissions.fromString("r-xr-x---"));
  }

  @Test
  void pathsAreLexicalValues() {
    Path p = fs.getPath("/a/./b/../c");
    assertThat(p.normalize()).isEqualTo(fs.getPath("/a/c")).hasToString("/a/c");
    assertThat(fs.getPath("/a/b").relativize(fs.getPath("/a/c/d"))).hasToString("../c/d");
    assertThat(fs.getPath("/a").resolve("b/c").getParent()).isEqualTo(fs.getPath("/a/b"));
    assertThat(fs.getPath("/a").getParent()).isEqualTo(fs.getPath("/"));
    assertThat(fs.getPath("a").getParent()).isNull();
    assertThat(fs.getPath("/a/b").startsWith(fs.getPath("/a"))).isTrue();
    assertThat(fs.getPath("/a/b").endsWith(fs.getPath("b"))).isTrue();
    assertThatThrownBy(() -> fs.getPath("/a").resolve(Path.of("b")))
        .isInstanceOf(ProviderMismatchException.class);
  }

  @Test
  void writesLandInTheUpperLayerOnly() throws IOException {
    Files.writeString(fs.getPath("/dir/f"), "upper");
    Files.writeString(fs.getPath("/dir/g"), "new");

    assertThat(Files.readString(fs.getPath("/dir/f"))).isEqualTo("upper");
    assertThat(Files.readString(lower.resolve("dir/f"))).isEqualTo("lower");
    assertThat(list("/dir")).containsExactly("f", "g");
    assertThat(Files.readString(upper.resolve("dir/g"))).isEqualTo("new");
  }

  @Test
  void deletesAreWhiteoutsAndTheExactExceptionsAreThrown() throws IOException {
    assertThatThrownBy(() -> Files.delete(fs.getPath("/dir")))
        .isInstanceOf(DirectoryNotEmptyException.class);
    Files.delete(fs.getPath("/dir/f"));
    assertThat(fs.getPath("/dir/f")).doesNotExist();
    assertThat(list("/dir")).isEmpty();
    assertThat(upper.resolve("dir/.wh.f")).exists();
    assertThat(lower.resolve("dir/f")).exists();
    assertThatThrownBy(() -> Files.readString(fs.getPath("/dir/f")))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> Files.createDirectory(fs.getPath("/dir")))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThatThrownBy(() -> Files.list(fs.getPath("/nope")))
        .isInstanceOf(NoSuchFileException.class);
    Files.writeString(fs.getPath("/file"), "x");
    assertThatThrownBy(() -> Files.list(fs.getPath("/file")))
        .isInstanceOf(NotDirectoryException.class);

    Files.delete(fs.getPath("/dir"));
    assertThat(list("/")).containsExactly("file");
    Files.createDirectory(fs.getPath("/dir"));
    assertThat(list("/dir")).isEmpty(); // opaque: the lower dir/f stays hidden
  }

  @Test
  void everyCallFailsAfterClose() throws IOException {
    fs.close();
    assertThat(fs.isOpen()).isFalse();
    assertThatThrownBy(() -> Files.exists(fs.getPath("/dir")))
        .isInstanceOf(ClosedFileSystemException.class);
    assertThatThrownBy(() -> Files.newBufferedReader(fs.getPath("/dir/f")))
        .isInstanceOf(ClosedFileSystemException.class);
  }
}
