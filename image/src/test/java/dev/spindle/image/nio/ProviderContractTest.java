package dev.spindle.image.nio;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.ImageFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.ClosedFileSystemException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.ProviderNotFoundException;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provider's outside contract, which does not depend on the access mode: URIs, one open file
 * system per image file, files that are not images, the env map, and the lifecycle. Opens with an
 * empty env, so the defaults are what is tested.
 */
final class ProviderContractTest {
  @TempDir static Path tmp;
  static ImageFixture fixture;

  FileSystem fs;
  Path root;

  @BeforeAll
  static void makeImage() throws IOException {
    fixture = ImageFixture.create(tmp);
  }

  @BeforeEach
  void open() throws IOException {
    fs = FileSystems.newFileSystem(fixture.image());
    root = fs.getPath("/");
  }

  @AfterEach
  void close() throws IOException {
    fs.close();
  }

  // ---- URIs and the registry ----

  @Test
  void urisRoundTrip() throws IOException {
    for (String p :
        List.of("/", "/hello.txt", "/日本/データ.txt", "/naïve café.txt", "docs/../a b#?!/x")) {
      Path path = fs.getPath(p);
      URI uri = path.toUri();
      assertThat(uri.getScheme()).isEqualTo("spindle");
      assertThat(Path.of(uri)).isEqualTo(path.toAbsolutePath());
    }
    URI file = fs.getPath("/hello.txt").toUri();
    assertThat(FileSystems.getFileSystem(file)).isSameAs(fs);
    assertThat(Files.readString(Path.of(file))).isEqualTo("hello\n");
  }

  @Test
  void anImageNamedWithBangsAndSpacesWorksByUri() throws IOException {
    Path odd = Files.createDirectories(tmp.resolve("dir!/x y")).resolve("a!b c.img");
    Files.copy(fixture.image(), odd, StandardCopyOption.REPLACE_EXISTING);
    URI uri = URI.create("spindle:" + odd.toUri().toString().replace("!", "%21") + "!/hello.txt");
    try (FileSystem other = FileSystems.newFileSystem(uri, Map.of())) {
      Path hello = Path.of(uri);
      assertThat(hello.getFileSystem()).isSameAs(other);
      assertThat(hello.toUri()).isEqualTo(uri);
      assertThat(Files.readString(hello)).isEqualTo("hello\n");
    }
    assertThatThrownBy(() -> Path.of(uri)).isInstanceOf(FileSystemNotFoundException.class);
  }

  @Test
  void oneOpenFileSystemPerImageFile() throws IOException {
    assertThatThrownBy(() -> FileSystems.newFileSystem(fixture.image()))
        .isInstanceOf(FileSystemAlreadyExistsException.class);
    Path viaLink = Files.createSymbolicLink(tmp.resolve("link.img"), fixture.image());
    assertThatThrownBy(() -> FileSystems.newFileSystem(viaLink))
        .isInstanceOf(FileSystemAlreadyExistsException.class);
    assertThatThrownBy(() -> FileSystems.newFileSystem(fs.getPath("/hello.txt").toUri(), Map.of()))
        .isInstanceOf(FileSystemAlreadyExistsException.class);
    URI uri = fs.getPath("/").toUri();
    fs.close();
    assertThatThrownBy(() -> FileSystems.getFileSystem(uri))
        .isInstanceOf(FileSystemNotFoundException.class);
    fs = FileSystems.newFileSystem(uri, Map.of());
    assertThat(FileSystems.getFileSystem(uri)).isSameAs(fs);
  }

  @Test
  void aFileThatIsNotAnImageIsLeftToOtherProviders() throws IOException {
    Path text = Files.writeString(tmp.resolve("not-an-image"), "SPNDLIM but not quite");
    SpindleFileSystemProvider provider = (SpindleFileSystemProvider) fs.provider();
    assertThatThrownBy(() -> provider.newFileSystem(text, Map.of()))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> provider.newFileSystem(tmp.resolve("missing.img"), Map.of()))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> provider.newFileSystem(tmp, Map.of()))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(
            () -> FileSystems.newFileSystem(URI.create("spindle:" + text.toUri()), Map.of()))
        .isInstanceOf(ImageFormatException.class)
        .hasMessageContaining(text.toString());
    assertThatThrownBy(
            () -> FileSystems.newFileSystem(URI.create("spindle:http://x/y!/"), Map.of()))
        .isInstanceOf(IllegalArgumentException.class);
    // Every installed provider declined (zipfs too, for a name not ending .zip or .jar).
    assertThatThrownBy(() -> FileSystems.newFileSystem(text))
        .isInstanceOf(ProviderNotFoundException.class);
  }

  @Test
  void badEnvironmentIsRefused() throws IOException {
    fs.close();
    assertThatThrownBy(() -> FileSystems.newFileSystem(fixture.image(), Map.of("mode", "eager")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("eager");
    assertThatThrownBy(() -> FileSystems.newFileSystem(fixture.image(), Map.of("create", "true")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("create");
    assertThatThrownBy(() -> FileSystems.newFileSystem(fixture.image(), Map.of("bufferLimit", -1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bufferLimit");
    fs = FileSystems.newFileSystem(fixture.image(), Map.of());
  }

  // ---- lifecycle ----

  @Test
  // Streams stay open on purpose (close must fail them), and each operation is called only to see
  // it throw.
  @SuppressWarnings({"StreamResourceLeak", "ReturnValueIgnored"})
  void everythingFailsAfterClose() throws IOException {
    Path hello = fs.getPath("hello.txt");
    SeekableByteChannel ch = Files.newByteChannel(hello);
    InputStream in = Files.newInputStream(fs.getPath("big.bin"));
    DirectoryStream<Path> ds = Files.newDirectoryStream(root);
    fs.close();
    fs.close(); // idempotent
    assertThat(fs.isOpen()).isFalse();
    assertThat(ch.isOpen()).isFalse();
    assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(1)))
        .isInstanceOf(ClosedChannelException.class);
    assertThatThrownBy(in::read).isInstanceOf(ClosedChannelException.class);
    assertThatThrownBy(ds::iterator).isInstanceOf(IllegalStateException.class);
    List<ThrowingConsumer<Path>> calls =
        List.of(
            Files::readAllBytes,
            Files::newByteChannel,
            Files::newInputStream,
            Files::newDirectoryStream,
            p -> Files.readAttributes(p, BasicFileAttributes.class),
            p -> Files.readAttributes(p, PosixFileAttributes.class, NOFOLLOW_LINKS),
            p -> Files.readAttributes(p, "*"),
            p -> Files.getFileAttributeView(p, BasicFileAttributeView.class),
            Files::exists,
            Files::isDirectory,
            p -> fs.provider().checkAccess(p),
            p -> fs.provider().exists(p),
            Files::readSymbolicLink,
            p -> Files.isSameFile(p, p.resolveSibling("empty")),
            Files::isHidden,
            Files::getFileStore,
            Path::toRealPath,
            Files::delete,
            p -> Files.createDirectory(p),
            p -> Files.copy(p, p.resolveSibling("c")),
            p -> Files.move(p, p.resolveSibling("c")),
            p -> Files.setAttribute(p, "basic:size", 1L),
            p ->
                ((SpindleFileSystemProvider) fs.provider())
                    .readAttributesIfExists(p, BasicFileAttributes.class),
            p -> fs.getRootDirectories(),
            p -> fs.getFileStores(),
            p -> fs.getPathMatcher("glob:*"),
            p -> fs.newWatchService(),
            p -> fs.getUserPrincipalLookupService());
    for (ThrowingConsumer<Path> call : calls) {
      assertThatThrownBy(() -> call.accept(hello)).isInstanceOf(ClosedFileSystemException.class);
    }
    // Paths are values: they still parse and compare.
    assertThat(fs.getPath("a/b").getParent()).isEqualTo(fs.getPath("a"));
  }

  @Test
  void aViewMadeBeforeCloseFailsAfter() throws IOException {
    BasicFileAttributeView view =
        Files.getFileAttributeView(fs.getPath("hello.txt"), BasicFileAttributeView.class);
    assertThat(view.readAttributes().size()).isEqualTo(6);
    fs.close();
    assertThatThrownBy(view::readAttributes).isInstanceOf(ClosedFileSystemException.class);
  }
}
