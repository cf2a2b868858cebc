package dev.spindle.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.image.make.Owners;
import dev.spindle.testing.GitCli;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Owners, every mode bit, hard links, extended attributes and empty directories go into an image
 * and come back out exactly: the original tree, built with chown/chmod/setfattr/ln, and its
 * extraction give the same {@code find -printf} and {@code getfattr} listings, while the root stays
 * {@code git write-tree}'s. The metadata is verified: altered, cut off or out of bounds, it is
 * refused with the place named.
 */
class ImageMetadataTest {
  private static final MakeOptions OPTIONS =
      MakeOptions.defaults().withDate(OffsetDateTime.parse("2026-01-02T03:04:05Z"));

  @TempDir Path tmp;

  private Path make(Path dir, MakeOptions o) throws IOException {
    Path image = tmp.resolve("meta.img");
    new ImageMaker(o, Progress.NONE).make(dir.toString(), image);
    return image;
  }

  @Test
  @Requires({Tool.ROOT, Tool.ATTR})
  void extractGivesBackTheTreeAsFindAndGetfattrSeeIt() throws Exception {
    Path src = MetadataFixture.build(tmp.resolve("src"));
    Path image = make(src, OPTIONS.withOwners(Owners.FROM_FILES));

    VerifyReport r = new ImageVerifier(Progress.NONE).verify(image);
    assertThat(r.problems()).isEmpty();
    try (Image img = Image.open(image, AccessMode.INDEXED)) {
      assertThat(img.header().version()).isEqualTo(ImageHeader.VERSION_METADATA);
      assertThat(img.root().name()).isEqualTo(GitCli.writeTree(src)); // Git's tree: contents only
      Path out = tmp.resolve("out");
      ImageExtractor x = new ImageExtractor(img, Progress.NONE);
      x.extract(img.rootEntry(), out);
      assertThat(x.notRestored()).isEmpty();
      assertThat(MetadataFixture.listing(out)).isEqualTo(MetadataFixture.listing(src));
      assertThat(MetadataFixture.xattrs(out))
          .isEqualTo(MetadataFixture.xattrs(src))
          .contains("security.capability=" + MetadataFixture.CAP_NET_RAW);
      assertThat(Files.readAttributes(out.resolve("usr/bin/a"), "unix:ino"))
          .isEqualTo(Files.readAttributes(out.resolve("usr/bin/c"), "unix:ino"));
    }
  }

  @Test
  @Requires({Tool.ROOT, Tool.ATTR})
  void theNioProviderShowsOwnersModesLinksAndAttributes() throws Exception {
    Path image =
        make(MetadataFixture.build(tmp.resolve("src")), OPTIONS.withOwners(Owners.FROM_FILES));
    try (FileSystem fs = FileSystems.newFileSystem(image)) {
      Map<String, Object> ping = Files.readAttributes(fs.getPath("/bin/ping"), "unix:*");
      assertThat(ping.get("mode")).isEqualTo(0104755);
      assertThat(ping.get("uid")).isEqualTo(0);
      assertThat(Files.readAttributes(fs.getPath("/etc/shadow"), "unix:gid,mode"))
          .isEqualTo(Map.of("gid", 42, "mode", 0100640));
      PosixFileAttributes key =
          Files.readAttributes(fs.getPath("/home/user/key"), PosixFileAttributes.class);
      assertThat(key.owner().getName()).isEqualTo("1000");
      assertThat(key.permissions()).isEqualTo(PosixFilePermissions.fromString("rw-------"));
      assertThat(Files.getAttribute(fs.getPath("/usr/bin/b"), "unix:nlink")).isEqualTo(3);
      assertThat(Files.getAttribute(fs.getPath("/usr/bin/e"), "unix:nlink")).isEqualTo(2);
      // What callers ask of the default file system's unix view (WASI's filestat does) is answered,
      // hard links sharing an inode number as they do on the host.
      assertThat(Files.readAttributes(fs.getPath("/usr/bin/a"), "unix:dev,ino,nlink,ctime"))
          .containsOnlyKeys("dev", "ino", "nlink", "ctime");
      assertThat(Files.getAttribute(fs.getPath("/usr/bin/a"), "unix:ino"))
          .isEqualTo(Files.getAttribute(fs.getPath("/usr/bin/c"), "unix:ino"))
          .isNotEqualTo(Files.getAttribute(fs.getPath("/usr/bin/e"), "unix:ino"));
      assertThat(Files.getAttribute(fs.getPath("/tmp"), "unix:mode")).isEqualTo(041777);
      assertThat(Files.getAttribute(fs.getPath("/var/empty"), "unix:nlink")).isEqualTo(3);
      assertThat(Files.isDirectory(fs.getPath("/var/empty/a/b"))).isTrue();
      try (var s = Files.list(fs.getPath("/tmp"))) {
        assertThat(s).isEmpty();
      }
      assertThat(
              Files.getAttribute(fs.getPath("/bin/a-link"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
          .isEqualTo(1000);
      @SuppressWarnings("unchecked")
      Map<String, byte[]> x =
          (Map<String, byte[]>) Files.getAttribute(fs.getPath("/home/user/key"), "spindle:xattrs");
      assertThat(x).containsOnlyKeys("user.comment");
      assertThat(new String(x.get("user.comment"), java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo("hello");
    }
  }

  @Test
  void ownersAreNamedOrLeftOutAsAsked() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f"), "x");
    Files.createDirectories(src.resolve("empty"));
    try (Image img =
        Image.open(make(src, OPTIONS.withOwners(Owners.parse("7:8"))), AccessMode.LAZY)) {
      MetadataTable t = img.metadata().orElseThrow();
      assertThat(t.ownersRecorded()).isTrue();
      assertThat(t.entries()).extracting(EntryMetadata::path).containsExactly("", "empty", "f");
      assertThat(t.entries())
          .allSatisfy(m -> assertThat(List.of(m.uid(), m.gid())).containsExactly(7, 8));
      assertThat(img.require("empty").isDirectory()).isTrue();
    }
    try (Image img = Image.open(make(src, OPTIONS.withOwners(Owners.NONE)), AccessMode.LAZY)) {
      assertThat(img.metadata().orElseThrow().ownersRecorded()).isFalse();
    }
    assertThatThrownBy(() -> Owners.parse("root")).hasMessageContaining("UID:GID");
  }

  /** An image of a Git repository, written as before images kept metadata, reads as it did. */
  @Test
  void anImageWithoutMetadataReadsWithTodaysDefaults() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Files.writeString(repo.resolve("f"), "x");
    Files.createDirectories(repo.resolve("d"));
    Files.writeString(repo.resolve("d/run"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(
        repo.resolve("d/run"), PosixFilePermissions.fromString("rwxr-xr-x"));
    GitCli.run(repo, "init", "-q");
    GitCli.run(repo, "add", "-A");
    GitCli.run(repo, "commit", "-q", "-m", "c");
    Path image = make(repo, OPTIONS);
    assertThat(new ImageVerifier(Progress.NONE).verify(image).problems()).isEmpty();
    try (Image img = Image.open(image, AccessMode.INDEXED)) {
      assertThat(img.header().version()).isEqualTo(ImageHeader.VERSION);
      assertThat(img.metadata()).isEmpty();
      assertThat(img.linkCount(img.require("d"))).isEqualTo(1);
    }
    try (FileSystem fs = FileSystems.newFileSystem(image)) {
      assertThat(Files.readAttributes(fs.getPath("/f"), "unix:mode,uid,gid,nlink"))
          .isEqualTo(Map.of("mode", 0100644, "uid", 0, "gid", 0, "nlink", 1));
      assertThat(Files.getAttribute(fs.getPath("/d/run"), "unix:mode")).isEqualTo(0100755);
      assertThat(Files.getAttribute(fs.getPath("/d"), "unix:mode")).isEqualTo(040755);
    }
  }

  private Path simpleImage() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f"), "x");
    return make(src, OPTIONS.withOwners(Owners.parse("5:5")));
  }

  @Test
  void aChangedByteInTheMetadataIsNamedByVerifyAndRefusedOnOpen() throws Exception {
    Path image = simpleImage();
    ImageHeader h = header(image);
    long uidOfF = h.metadataOffset() + h.metadataLength() - 2 - 4 - 4 - 4; // last entry's gid..
    patch(image, uidOfF, new byte[] {9});
    VerifyReport r = new ImageVerifier(Progress.NONE).verify(image);
    assertThat(r.problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.offset()).isEqualTo(h.metadataOffset());
              assertThat(p.message()).contains("metadata section checksum mismatch");
            });
    assertThatThrownBy(() -> Image.open(image, AccessMode.LAZY).close())
        .isInstanceOf(ImageFormatException.class)
        .hasMessageContaining("metadata section checksum");

    // The same change with the CRC made to match: the commit's SHA-256 still catches it.
    byte[] section = read(image, h.metadataOffset(), (int) h.metadataLength());
    CRC32C crc = new CRC32C();
    crc.update(section);
    rewriteHeader(
        image,
        new ImageHeader(
            h.version(),
            h.commit(),
            h.root(),
            h.packOffset(),
            h.packLength(),
            h.idxOffset(),
            h.idxLength(),
            h.pathIndexOffset(),
            h.pathIndexLength(),
            h.objectCount(),
            h.pathIndexCrc(),
            h.metadataLength(),
            (int) crc.getValue()));
    assertThat(new ImageVerifier(Progress.NONE).verify(image).problems())
        .extracting(VerifyReport.Problem::message)
        .containsExactly(
            "metadata section's SHA-256 is not the one the commit names: metadata altered");
    assertThatThrownBy(() -> Image.open(image, AccessMode.LAZY).close())
        .hasMessageContaining("metadata altered");
  }

  @Test
  void cuttingTheMetadataOffIsRefused() throws Exception {
    Path image = simpleImage();
    ImageHeader h = header(image);
    rewriteHeader(
        image,
        new ImageHeader(
            ImageHeader.VERSION,
            h.commit(),
            h.root(),
            h.packOffset(),
            h.packLength(),
            h.idxOffset(),
            h.idxLength(),
            h.pathIndexOffset(),
            h.pathIndexLength(),
            h.objectCount(),
            h.pathIndexCrc()));
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
      ch.truncate(h.metadataOffset());
    }
    assertThat(new ImageVerifier(Progress.NONE).verify(image).problems())
        .extracting(VerifyReport.Problem::message)
        .containsExactly(
            "the commit names a metadata section but the image has none (cut off or downgraded)");
    assertThatThrownBy(() -> Image.open(image, AccessMode.LAZY).close())
        .hasMessageContaining("cut off");
  }

  @Test
  void hostileTablesAreRefusedWithTheFieldAndOffsetNamed() throws Exception {
    byte[] good =
        MetadataTable.of(
                true,
                List.of(
                    new EntryMetadata("", EntryMetadata.S_IFDIR | 0755, 0, 0, 0, false, List.of()),
                    new EntryMetadata(
                        "f",
                        EntryMetadata.S_IFREG | 0644,
                        0,
                        0,
                        0,
                        false,
                        List.of(new EntryMetadata.Xattr("user.a", new byte[] {1})))))
            .write();
    assertThat(MetadataTable.read("x", 100, good).entries()).hasSize(2);

    byte[] hugeCount = good.clone();
    ByteBuffer.wrap(hugeCount).putInt(8, Integer.MAX_VALUE);
    assertThatThrownBy(() -> MetadataTable.read("x", 100, hugeCount))
        .hasMessage(
            "x: at byte 108: metadata section: entry count 2147483647 does not fit the section of "
                + good.length
                + " bytes");

    byte[] longValue =
        good.clone(); // the attribute's value length, 4 bytes before its 1-byte value
    ByteBuffer.wrap(longValue).putInt(good.length - 5, 1 << 30);
    assertThatThrownBy(() -> MetadataTable.read("x", 100, longValue))
        .hasMessageContaining("at byte " + (100 + good.length - 5)) // the length field itself
        .hasMessageContaining("entry 1 ('f') attribute 0: value length 1073741824 exceeds 65536");

    byte[] badMode = good.clone(); // entry 1: 12 + root (2 + 0 + 1 + 16 + 2) + 2 + 1 + 1 (flags)
    int modeAt = 12 + 21 + 2 + 1 + 1;
    ByteBuffer.wrap(badMode).putInt(modeAt, 0020644); // a character device
    assertThatThrownBy(() -> MetadataTable.read("x", 0, badMode))
        .hasMessage(
            "x: at byte "
                + modeAt
                + ": metadata section: entry 1 ('f'): mode 20644 is not a "
                + "directory, regular file or symlink");

    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
    assertThatThrownBy(() -> MetadataTable.read("x", 0, truncated))
        .hasMessageContaining("entry 1 ('f') attribute 0 value runs past the end of the section");
  }

  private static ImageHeader header(Path image) throws IOException {
    try (FileChannel ch = FileChannel.open(image)) {
      return Image.readHeader(image, ch);
    }
  }

  private static byte[] read(Path image, long at, int len) throws IOException {
    try (FileChannel ch = FileChannel.open(image)) {
      ByteBuffer b = ByteBuffer.allocate(len);
      while (b.hasRemaining() && ch.read(b, at + b.position()) > 0) {}
      return b.array();
    }
  }

  private static void patch(Path image, long at, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(bytes), at);
    }
  }

  private static void rewriteHeader(Path image, ImageHeader h) throws IOException {
    patch(image, 0, h.encode());
  }
}
