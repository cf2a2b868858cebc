package dev.spindle.image.lazy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.TestTrees;
import dev.spindle.image.make.ImageWriter;
import dev.spindle.testing.GitCli;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jgit.lib.ObjectReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blobs read as PACK entries by byte ranges of an image file, as a lazy image from a registry reads
 * them: every blob equals what the whole image gives, deltas included (git verify-pack, the oracle,
 * shows the PACK has them), and a flipped byte in an entry is refused.
 */
class PackRangeOriginTest {
  @TempDir Path tmp;

  /** Reads ranges of a local file, counting bytes and flipping one byte when asked. */
  private static final class FileRanges implements RemoteRanges {
    final FileChannel ch;
    final AtomicLong read = new AtomicLong();
    long flip = -1;

    FileRanges(Path file) throws IOException {
      ch = FileChannel.open(file);
    }

    @Override
    public byte[] read(long offset, int length) throws IOException {
      ByteBuffer b = ByteBuffer.allocate(length);
      while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
        // fill
      }
      byte[] a = b.array();
      if (flip >= offset && flip < offset + length) {
        a[(int) (flip - offset)] ^= 1;
      }
      read.addAndGet(length);
      return a;
    }

    @Override
    public void close() {
      try {
        ch.close();
      } catch (IOException ignored) {
        // test reader
      }
    }
  }

  private Path image() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    String text = "a line of text that repeats\n".repeat(20_000);
    for (int i = 0; i < 5; i++) {
      Files.writeString(src.resolve("text" + i), text + "variant " + i + "\n");
    }
    TestTrees.random(Files.createDirectory(src.resolve("random")), 3, 20);
    return TestTrees.makeImage(src, tmp.resolve("a.img"));
  }

  private static byte[] headerAndIdx(Path image) throws IOException {
    byte[] all = Files.readAllBytes(image);
    ImageHeader h = ImageHeader.decode(image.toString(), all, all.length);
    byte[] out = new byte[ImageHeader.SIZE + (int) h.idxLength()];
    System.arraycopy(all, 0, out, 0, ImageHeader.SIZE);
    System.arraycopy(all, (int) h.idxOffset(), out, ImageHeader.SIZE, (int) h.idxLength());
    return out;
  }

  @Test
  void everyBlobReadByRangesIsTheWholeImagesIncludingDeltas() throws Exception {
    Path image = image();
    byte[] all = Files.readAllBytes(image);
    ImageHeader h = ImageHeader.decode(image.toString(), all, all.length);
    Path pack = tmp.resolve("git/pack-x.pack");
    Files.createDirectories(pack.getParent());
    Files.write(
        pack,
        java.util.Arrays.copyOfRange(
            all, (int) h.packOffset(), (int) (h.packOffset() + h.packLength())));
    Files.write(
        tmp.resolve("git/pack-x.idx"),
        java.util.Arrays.copyOfRange(
            all, (int) h.idxOffset(), (int) (h.idxOffset() + h.idxLength())));
    String verify = GitCli.run(pack.getParent(), "verify-pack", "-v", pack.toString());
    assertThat(verify)
        .as("the oracle: the PACK holds deltas")
        .containsPattern("\\bblob\\s+\\d+ \\d+ \\d+ 1 ");

    try (FileRanges ranges = new FileRanges(image);
        Image whole = Image.open(image, AccessMode.INDEXED);
        ObjectReader reader = whole.repository().newObjectReader()) {
      PackRangeOrigin origin = PackRangeOrigin.over(ranges, headerAndIdx(image), "test");
      List<ImageEntry> entries = ImageWriter.entries(reader, whole.root());
      int blobs = 0;
      for (ImageEntry e : entries) {
        if (e.isRegularFile() || e.isSymlink()) {
          byte[] b = origin.blob(e.id(), e.size());
          assertThat(ObjectCache.idOf(b)).as(e.path()).isEqualTo(e.id());
          blobs++;
        }
      }
      assertThat(blobs).isGreaterThan(5);
    }
  }

  @Test
  void aFlippedByteInAnEntryIsRefused() throws Exception {
    Path image = image();
    try (FileRanges ranges = new FileRanges(image);
        Image whole = Image.open(image, AccessMode.INDEXED)) {
      ImageEntry e = whole.lookup("text0").orElseThrow();
      PackRangeOrigin origin = PackRangeOrigin.over(ranges, headerAndIdx(image), "test");
      ImageHeader h =
          ImageHeader.decode(image.toString(), Files.readAllBytes(image), Files.size(image));
      org.eclipse.jgit.internal.storage.file.PackIndex idx =
          org.eclipse.jgit.internal.storage.file.PackIndex.read(
              new java.io.ByteArrayInputStream(
                  headerAndIdx(image), ImageHeader.SIZE, (int) h.idxLength()));
      ranges.flip = h.packOffset() + idx.findOffset(e.id()) + 8; // inside its deflated data
      ObjectCache cache = ObjectCache.of(tmp.resolve("cache"));
      assertThatThrownBy(() -> cache.blob(e.id(), e.size(), origin::blob))
          .hasMessageContaining("nothing stored");
    }
  }
}
