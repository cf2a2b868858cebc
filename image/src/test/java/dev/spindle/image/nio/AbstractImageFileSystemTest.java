package dev.spindle.image.nio;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.DosFileAttributeView;
import java.nio.file.attribute.DosFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectInserter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image file system against the default file system as oracle, through {@code Files} and {@code
 * Path} only. Each subclass runs it all in one access mode.
 */
abstract class AbstractImageFileSystemTest {
  @TempDir static Path tmp;
  static ImageFixture fixture;

  FileSystem fs;
  Path root;

  /** "indexed" or "lazy": the {@code mode} env value. */
  abstract String mode();

  @BeforeAll
  static void makeImage() throws IOException {
    fixture = ImageFixture.create(tmp);
  }

  @BeforeEach
  void open() throws IOException {
    fs = FileSystems.newFileSystem(fixture.image(), Map.of("mode", mode()));
    root = fs.getPath("/");
  }

  @AfterEach
  void close() throws IOException {
    fs.close();
  }

  // ---- the source directory as oracle ----

  /** What a walk sees of each entry, as strings, so the two file systems compare directly. */
  private static Map<String, String> describe(Path top, FileVisitOption... options)
      throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(top, options)) {
      for (Path p : walk.toList()) {
        out.put(top.relativize(p).toString(), describeEntry(p, options.length > 0));
      }
    }
    return out;
  }

  private static String describeEntry(Path p, boolean followed) throws IOException {
    LinkOption[] how = followed ? new LinkOption[0] : new LinkOption[] {NOFOLLOW_LINKS};
    if (followed && !Files.exists(p)) { // dangling or looping: the walk reports the link itself
      how = new LinkOption[] {NOFOLLOW_LINKS};
    }
    PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, how);
    String perms = PosixFilePermissions.toString(a.permissions());
    if (a.isSymbolicLink()) {
      return "link " + perms + " -> " + Files.readSymbolicLink(p) + " size " + a.size();
    }
    if (a.isDirectory()) {
      return "dir " + perms + " hidden=" + Files.isHidden(p);
    }
    return "file "
        + perms
        + " size "
        + a.size()
        + " exec="
        + Files.isExecutable(p)
        + " hidden="
        + Files.isHidden(p)
        + " sha="
        + Arrays.hashCode(Files.readAllBytes(p));
  }

  @Test
  void walkSeesWhatTheSourceDirectoryHas() throws IOException {
    Map<String, String> expected = describe(fixture.source());
    assertThat(expected).containsKeys("naïve café.txt", "日本/データ.txt", "loop-a", "big.bin");
    assertThat(describe(root)).isEqualTo(expected);
  }

  @Test
  void walkFollowingLinksSeesWhatTheSourceDirectoryHas() throws IOException {
    Map<String, String> expected = describe(fixture.source(), FileVisitOption.FOLLOW_LINKS);
    assertThat(expected).containsKeys("docs-link/guide/up", "docs-link/guide/readme.md");
    assertThat(describe(root, FileVisitOption.FOLLOW_LINKS)).isEqualTo(expected);
  }

  @Test
  void walkOfASubdirectoryGivesPathsUnderIt() throws IOException {
    try (Stream<Path> walk = Files.walk(fs.getPath("docs-link/guide"))) {
      assertThat(walk.map(Path::toString))
          .containsExactlyInAnyOrder(
              "docs-link/guide",
              "docs-link/guide/notes.txt",
              "docs-link/guide/readme.md",
              "docs-link/guide/up");
    }
  }

  @Test
  void walkFollowingALinkToAnAncestorDetectsTheLoopAsTheDefaultFileSystemDoes() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("cycle-" + mode() + "/d"));
    Files.writeString(src.resolve("f"), "f");
    Files.createSymbolicLink(src.resolve("up"), Path.of(".."));
    Path image = tmp.resolve("cycle-" + mode() + ".img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE).make(src.getParent().toString(), image);
    try (FileSystem cycle = FileSystems.newFileSystem(image, Map.of("mode", mode()))) {
      for (Path top : List.of(src.getParent(), cycle.getPath("/"))) {
        try (Stream<Path> walk = Files.walk(top, FileVisitOption.FOLLOW_LINKS)) {
          assertThatThrownBy(walk::count)
              .as(top.toString())
              .isInstanceOf(UncheckedIOException.class)
              .hasCauseInstanceOf(FileSystemLoopException.class);
        }
      }
    }
  }

  // ---- content ----

  @Test
  void filesCopyOutToTheDefaultFileSystem() throws IOException {
    Path out = tmp.resolve("copied-" + mode());
    Files.copy(fs.getPath("/big.bin"), out);
    assertThat(Files.mismatch(out, fixture.source().resolve("big.bin"))).isEqualTo(-1);
  }

  @Test
  void concurrentReadersSeeTheSameBytes() throws Exception {
    byte[] big = Files.readAllBytes(fixture.source().resolve("big.bin"));
    fs.close();
    fs =
        FileSystems.newFileSystem(
            fixture.image(), Map.of("mode", mode(), "bufferLimit", 64 * 1024));
    try (var pool = Executors.newFixedThreadPool(4)) {
      List<Future<byte[]>> reads = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String name = i % 2 == 0 ? "big.bin" : "日本/データ.txt";
        reads.add(pool.submit(() -> Files.readAllBytes(fs.getPath(name))));
      }
      for (int i = 0; i < reads.size(); i++) {
        assertThat(reads.get(i).get())
            .isEqualTo(i % 2 == 0 ? big : "データ\n".getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  @Test
  void readsWholeFilesAndStreams() throws IOException {
    assertThat(Files.readString(fs.getPath("naïve café.txt"))).isEqualTo("crème brûlée\n");
    assertThat(Files.readAllBytes(fs.getPath("/empty"))).isEmpty();
    assertThat(Files.readString(fs.getPath("/docs-link/guide/up"))).isEqualTo("a\n");
    try (InputStream in = Files.newInputStream(fs.getPath("big.bin"))) {
      assertThat(in.readAllBytes())
          .isEqualTo(Files.readAllBytes(fixture.source().resolve("big.bin")));
    }
  }

  @Test
  void seekAndReadMatchSourceBytesWhenBuffered() throws IOException {
    seekAndRead(fs);
  }

  @Test
  void seekAndReadMatchSourceBytesWhenStreamed() throws IOException {
    fs.close();
    fs =
        FileSystems.newFileSystem(
            fixture.image(), Map.of("mode", mode(), "bufferLimit", 64 * 1024));
    seekAndRead(fs);
  }

  private static void seekAndRead(FileSystem fs) throws IOException {
    byte[] source = Files.readAllBytes(fixture.source().resolve("big.bin"));
    Random random = new Random(7);
    try (SeekableByteChannel ch = Files.newByteChannel(fs.getPath("big.bin"))) {
      assertThat(ch.size()).isEqualTo(source.length);
      for (int i = 0; i < 40; i++) {
        int pos = random.nextInt(source.length);
        ByteBuffer buf = ByteBuffer.allocate(1 + random.nextInt(100_000));
        ch.position(pos);
        while (buf.hasRemaining() && ch.read(buf) > 0) {}
        int n = buf.position();
        assertThat(n).isEqualTo(Math.min(buf.capacity(), source.length - pos));
        assertThat(Arrays.copyOf(buf.array(), n))
            .isEqualTo(Arrays.copyOfRange(source, pos, pos + n));
        assertThat(ch.position()).isEqualTo(pos + n);
      }
      ch.position(source.length + 10L);
      assertThat(ch.read(ByteBuffer.allocate(1))).isEqualTo(-1);
      assertThatThrownBy(() -> ch.position(-1)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> ch.write(ByteBuffer.allocate(1)))
          .isInstanceOf(NonWritableChannelException.class);
    }
  }

  // ---- misses and wrong types ----

  @Test
  void missesThrowTheExactNioException() {
    assertThatThrownBy(() -> Files.readAttributes(fs.getPath("/nope"), BasicFileAttributes.class))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("/nope");
    assertThatThrownBy(() -> Files.readAllBytes(fs.getPath("hello.txt/x")))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> Files.readAllBytes(fs.getPath("dangling")))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> Files.newDirectoryStream(fs.getPath("hello.txt")))
        .isInstanceOf(NotDirectoryException.class);
    assertThatThrownBy(() -> Files.readSymbolicLink(fs.getPath("hello.txt")))
        .isInstanceOf(NotLinkException.class);
    assertThatThrownBy(() -> Files.readAllBytes(fs.getPath("loop-a")))
        .isExactlyInstanceOf(FileSystemException.class)
        .hasMessageContaining("loop-a");
    assertThatThrownBy(() -> Files.readAllBytes(fs.getPath("docs")))
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining("directory");
    assertThatThrownBy(
            () ->
                Files.newByteChannel(
                    fs.getPath("link-to-hello"), StandardOpenOption.READ, NOFOLLOW_LINKS))
        .isInstanceOf(FileSystemException.class);
  }

  @Test
  void existsAndTypeChecksNeverThrow() throws IOException {
    assertThat(Files.exists(fs.getPath("/nope"))).isFalse();
    assertThat(Files.exists(fs.getPath("hello.txt/x"))).isFalse();
    assertThat(Files.exists(fs.getPath("dangling"))).isFalse();
    assertThat(Files.exists(fs.getPath("dangling"), NOFOLLOW_LINKS)).isTrue();
    assertThat(Files.exists(fs.getPath("loop-a"))).isFalse();
    assertThat(Files.notExists(fs.getPath("loop-a"), NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.isDirectory(fs.getPath("docs-link"))).isTrue();
    assertThat(Files.isDirectory(fs.getPath("docs-link"), NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.isSymbolicLink(fs.getPath("docs-link"))).isTrue();
    assertThat(Files.isRegularFile(fs.getPath("/docs/../hello.txt"))).isTrue();
    SpindleFileSystemProvider provider = (SpindleFileSystemProvider) fs.provider();
    assertThat(provider.readAttributesIfExists(fs.getPath("nope"), BasicFileAttributes.class))
        .isNull();
    assertThat(
            provider
                .readAttributesIfExists(fs.getPath("empty"), PosixFileAttributes.class)
                .isRegularFile())
        .isTrue();
  }

  // ---- writes ----

  @Test
  void everyWriteIsRefused() throws IOException {
    Path hello = fs.getPath("hello.txt");
    List<ThrowingConsumer<Path>> writes =
        List.of(
            p -> Files.writeString(p, "x"),
            p -> Files.newByteChannel(p, StandardOpenOption.WRITE),
            p -> Files.newByteChannel(p, StandardOpenOption.APPEND),
            p ->
                Files.newByteChannel(
                    p, StandardOpenOption.READ, StandardOpenOption.DELETE_ON_CLOSE),
            p -> Files.newOutputStream(p),
            p -> Files.createDirectory(p.resolveSibling("new")),
            p -> Files.createFile(p.resolveSibling("new")),
            p -> Files.createSymbolicLink(p.resolveSibling("new"), p),
            p -> Files.createLink(p.resolveSibling("new"), p),
            p -> Files.delete(p),
            p -> Files.deleteIfExists(p),
            p -> Files.copy(p, p.resolveSibling("copy")),
            p -> Files.move(p, p.resolveSibling("moved"), StandardCopyOption.ATOMIC_MOVE),
            p -> Files.setLastModifiedTime(p, FileTime.fromMillis(0)),
            p -> Files.setAttribute(p, "basic:lastModifiedTime", FileTime.fromMillis(0)),
            p ->
                Files.getFileAttributeView(p, BasicFileAttributeView.class)
                    .setTimes(null, null, null),
            p ->
                Files.getFileAttributeView(p, PosixFileAttributeView.class)
                    .setPermissions(PosixFilePermissions.fromString("rwxrwxrwx")),
            p -> Files.setOwner(p, Files.getOwner(p)));
    for (ThrowingConsumer<Path> w : writes) {
      assertThatThrownBy(() -> w.accept(hello)).isInstanceOf(ReadOnlyFileSystemException.class);
    }
    // Creation and truncation options mean nothing to a reader: ignored, as NIO specifies.
    try (SeekableByteChannel ch =
        Files.newByteChannel(
            hello,
            StandardOpenOption.READ,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.SYNC)) {
      assertThat(ch.size()).isEqualTo(6);
    }
    assertThatThrownBy(() -> Files.newInputStream(hello, StandardOpenOption.WRITE))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(Files.readString(hello)).isEqualTo("hello\n");
    assertThat(fs.isReadOnly()).isTrue();
  }

  @Test
  void accessFollowsTheGitMode() throws IOException {
    assertThat(Files.isReadable(fs.getPath("hello.txt"))).isTrue();
    assertThat(Files.isWritable(fs.getPath("hello.txt"))).isFalse();
    assertThat(Files.isExecutable(fs.getPath("hello.txt"))).isFalse();
    assertThat(Files.isExecutable(fs.getPath("bin/tool.sh"))).isTrue();
    assertThat(Files.isExecutable(fs.getPath("bin"))).isTrue();
    assertThatThrownBy(() -> fs.provider().checkAccess(fs.getPath("docs"), AccessMode.WRITE))
        .isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> fs.provider().checkAccess(fs.getPath("empty"), AccessMode.EXECUTE))
        .isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> fs.provider().checkAccess(fs.getPath("nope")))
        .isInstanceOf(NoSuchFileException.class);
  }

  // ---- attributes ----

  @Test
  void attributesComeFromTheGitModeAndTheCommit() throws IOException {
    FileTime date = FileTime.from(ImageFixture.DATE.toInstant());
    PosixFileAttributes tool =
        Files.readAttributes(fs.getPath("bin/tool.sh"), PosixFileAttributes.class);
    assertThat(tool.lastModifiedTime()).isEqualTo(date);
    assertThat(tool.lastAccessTime()).isEqualTo(date);
    assertThat(tool.creationTime()).isEqualTo(date);
    assertThat(tool.owner().getName()).isEqualTo("root");
    assertThat(tool.group().getName()).isEqualTo("root");
    assertThat(PosixFilePermissions.toString(tool.permissions())).isEqualTo("rwxr-xr-x");
    assertThat(Files.readAttributes(root, BasicFileAttributes.class).isDirectory()).isTrue();

    Map<String, Object> basic =
        Files.readAttributes(fs.getPath("hello.txt"), "basic:size,isDirectory");
    assertThat(basic).containsExactlyInAnyOrderEntriesOf(Map.of("size", 6L, "isDirectory", false));
    assertThat(Files.readAttributes(fs.getPath("hello.txt"), "size,lastModifiedTime"))
        .containsEntry("lastModifiedTime", date);
    assertThat(Files.readAttributes(fs.getPath("docs"), "posix:*"))
        .containsKeys("permissions", "group", "owner", "size", "fileKey");
    assertThat(Files.getAttribute(fs.getPath("link-to-hello"), "posix:permissions", NOFOLLOW_LINKS))
        .isEqualTo(PosixFilePermissions.fromString("rwxrwxrwx"));
    assertThat(Files.getOwner(fs.getPath("docs")).getName()).isEqualTo("root");
  }

  @Test
  void spindleViewGivesTheGitObjectIdAndMode() throws IOException {
    byte[] bytes = Files.readAllBytes(fixture.source().resolve("bin/tool.sh"));
    String gitId = new ObjectInserter.Formatter().idFor(Constants.OBJ_BLOB, bytes).name();
    Map<String, Object> a =
        Files.readAttributes(fs.getPath("bin/tool.sh"), "spindle:objectId,gitMode");
    assertThat(a).isEqualTo(Map.of("objectId", gitId, "gitMode", 0100755));
    assertThat(Files.readAttributes(fs.getPath("bin/tool.sh"), "spindle:*"))
        .containsOnlyKeys("objectId", "gitMode", "xattrs");
    assertThat(Files.getAttribute(fs.getPath("docs-link"), "spindle:gitMode", NOFOLLOW_LINKS))
        .isEqualTo(0120000);
    assertThat(Files.getAttribute(fs.getPath("docs-link"), "spindle:gitMode")).isEqualTo(040000);
    assertThat(Files.readAttributes(fs.getPath("hello.txt"), BasicFileAttributes.class).fileKey())
        .hasToString(
            "AnyObjectId["
                + new ObjectInserter.Formatter()
                    .idFor(Constants.OBJ_BLOB, "hello\n".getBytes(StandardCharsets.UTF_8))
                    .name()
                + "]");
  }

  @Test
  void unknownViewsAndAttributesAreRefusedAsNioSays() {
    assertThatThrownBy(() -> Files.readAttributes(fs.getPath("hello.txt"), "dos:*"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> Files.readAttributes(fs.getPath("hello.txt"), "basic:colour"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Files.readAttributes(fs.getPath("hello.txt"), DosFileAttributes.class))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(Files.getFileAttributeView(fs.getPath("hello.txt"), DosFileAttributeView.class))
        .isNull();
    assertThat(fs.supportedFileAttributeViews())
        .containsExactlyInAnyOrder("basic", "owner", "posix", "unix", "spindle");
  }

  @Test
  void aSubmoduleIsNeitherFileNorDirectory() throws IOException {
    Path image = tmp.resolve("submodule-" + mode() + ".img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE)
        .make(
            ImageFixture.repositoryWithSubmodule(tmp.resolve("repo-" + mode() + ".git")).toString(),
            image);
    try (FileSystem repo = FileSystems.newFileSystem(image, Map.of("mode", mode()))) {
      Path sub = repo.getPath("/lib/sub");
      BasicFileAttributes a = Files.readAttributes(sub, BasicFileAttributes.class);
      assertThat(a.isOther()).isTrue();
      assertThat(a.isDirectory() || a.isRegularFile() || a.isSymbolicLink()).isFalse();
      assertThat(Files.getAttribute(sub, "spindle:gitMode")).isEqualTo(0160000);
      assertThatThrownBy(() -> Files.newDirectoryStream(sub))
          .isInstanceOf(NotDirectoryException.class);
      assertThatThrownBy(() -> Files.readAllBytes(sub)).isInstanceOf(FileSystemException.class);
      try (Stream<Path> walk = Files.walk(repo.getPath("/"))) {
        assertThat(walk.map(Path::toString))
            .containsExactlyInAnyOrder("/", "/lib", "/lib/sub", "/README");
      }
    }
  }

  // ---- directories, links, identity ----

  @Test
  void directoryStreamListsFiltersAndIteratesOnce() throws IOException {
    try (DirectoryStream<Path> ds =
        Files.newDirectoryStream(fs.getPath("docs-link/guide"), "*.md")) {
      assertThat(ds).containsExactly(fs.getPath("docs-link/guide/readme.md"));
      assertThatThrownBy(ds::iterator).isInstanceOf(IllegalStateException.class);
    }
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
      ds.forEach(p -> names.add(p.getFileName().toString()));
    }
    try (Stream<Path> list = Files.list(fixture.source())) {
      assertThat(names)
          .containsExactlyInAnyOrderElementsOf(list.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void symlinksResolveAsTheKernelDoes() throws IOException {
    assertThat(Files.readSymbolicLink(fs.getPath("docs/guide/up")))
        .isEqualTo(fs.getPath("../a.txt"));
    assertThat(Files.readSymbolicLink(fs.getPath("dangling")).toString())
        .isEqualTo("nowhere/at/all");
    assertThat(fs.getPath("docs-link/guide/up").toRealPath()).isEqualTo(fs.getPath("/docs/a.txt"));
    assertThat(fs.getPath("docs-link/guide/up").toRealPath(NOFOLLOW_LINKS))
        .isEqualTo(fs.getPath("/docs/guide/up"));
    assertThat(fs.getPath("/docs/../../..").toRealPath()).isEqualTo(root);
    assertThatThrownBy(() -> fs.getPath("dangling").toRealPath())
        .isInstanceOf(NoSuchFileException.class);
    assertThat(Files.isSameFile(fs.getPath("docs-link/a.txt"), fs.getPath("/docs/guide/up")))
        .isTrue();
    assertThat(Files.isSameFile(fs.getPath("docs"), fs.getPath("docs"))).isTrue();
    assertThat(Files.isSameFile(fs.getPath("hello.txt"), fs.getPath("docs/a.txt"))).isFalse();
    assertThat(Files.isSameFile(fs.getPath("hello.txt"), fixture.source())).isFalse();
  }

  @Test
  void hiddenMeansADotName() throws IOException {
    assertThat(Files.isHidden(fs.getPath(".config/settings"))).isFalse();
    assertThat(Files.isHidden(fs.getPath("/.config"))).isTrue();
    assertThat(Files.isHidden(root)).isFalse();
  }

  @Test
  void fileStoreIsReadOnly() throws IOException {
    FileStore store = Files.getFileStore(fs.getPath("hello.txt"));
    assertThat(store.isReadOnly()).isTrue();
    assertThat(store.getTotalSpace()).isEqualTo(Files.size(fixture.image()));
    assertThat(store.supportsFileAttributeView("spindle")).isTrue();
    assertThat(store.supportsFileAttributeView(PosixFileAttributeView.class)).isTrue();
    assertThat(fs.getFileStores()).containsExactly(store);
    assertThat(fs.getRootDirectories()).containsExactly(root);
    assertThatThrownBy(() -> Files.getFileStore(fs.getPath("nope")))
        .isInstanceOf(NoSuchFileException.class);
  }
}
