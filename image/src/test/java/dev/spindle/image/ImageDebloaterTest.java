package dev.spindle.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.eclipse.jgit.internal.storage.file.PackIndex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Debloat: same files and root, the profiled files first and contiguous in the PACK, in order. */
class ImageDebloaterTest {
  private static final int SIZE = 4096;

  @TempDir Path tmp;

  @Test
  void putsTheProfiledFilesFirstInTheirOrderAndKeepsTheImageTheSame() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src/d"));
    Random r = new Random(7);
    for (int i = 0; i < 10; i++) {
      byte[] b = new byte[SIZE];
      r.nextBytes(b);
      Files.write(src.resolve("f" + i), b);
    }
    Path image = tmp.resolve("in.img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE).make(src.getParent().toString(), image);
    Path out = tmp.resolve("out.img");
    List<String> profile = List.of("/d/f7", "/d/f2", "d/f5", "/d/f2", "/nowhere");

    ImageDebloater.Report rep = ImageDebloater.debloat(image, profile, out);

    assertThat(rep.hotFiles()).isEqualTo(3);
    assertThat(rep.coldFiles()).isEqualTo(7);
    assertThat(rep.hotContentBytes()).isEqualTo(3L * SIZE);
    assertThat(rep.unknownPaths()).containsExactly("/nowhere");
    assertThat(rep.imageBytes()).isEqualTo(Files.size(out));
    assertThat(rep.hotPrefixBytes()).isBetween(3L * SIZE, 4L * SIZE + 2048);
    VerifyReport v = new ImageVerifier(Progress.NONE).verify(out);
    assertThat(v.problems()).isEmpty();
    try (Image a = Image.open(image, AccessMode.INDEXED);
        Image b = Image.open(out, AccessMode.INDEXED)) {
      assertThat(b.root()).isEqualTo(a.root());
      assertThat(b.header().commit()).isEqualTo(a.header().commit());
      PackIndex idx = index(b);
      long f7 = idx.findOffset(b.require("d/f7").id());
      long f2 = idx.findOffset(b.require("d/f2").id());
      long f5 = idx.findOffset(b.require("d/f5").id());
      assertThat(f7).isLessThan(f2);
      assertThat(f2).isLessThan(f5);
      for (int i : new int[] {0, 1, 3, 4, 6, 8, 9}) {
        assertThat(idx.findOffset(b.require("d/f" + i).id()))
            .isGreaterThan(f5)
            .isGreaterThanOrEqualTo(rep.hotPrefixBytes());
        assertThat(b.read(b.require("d/f" + i))).isEqualTo(a.read(a.require("d/f" + i)));
      }
    }
  }

  private static PackIndex index(Image img) throws IOException {
    ImageHeader h = img.header();
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(h.idxLength()));
    while (b.hasRemaining() && img.channel().read(b, h.idxOffset() + b.position()) > 0) {}
    return PackIndex.read(new ByteArrayInputStream(b.array()));
  }
}
