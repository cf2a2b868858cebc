package dev.spindle.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.image.make.ImageWriter;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import org.eclipse.jgit.internal.storage.dfs.DfsRepositoryDescription;
import org.eclipse.jgit.internal.storage.dfs.InMemoryRepository;
import org.eclipse.jgit.internal.storage.file.PackIndex;
import org.eclipse.jgit.internal.storage.pack.PackWriter;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.pack.PackConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of damage is caught, with the object and byte offset named. */
class VerifyDamageTest {
  @TempDir Path tmp;
  Path image;
  ImageHeader header;
  byte[] bytes;

  @BeforeEach
  void makeImage() throws Exception {
    Path src = TestTrees.random(Files.createDirectory(tmp.resolve("src")), 11, 40);
    image = TestTrees.makeImage(src, tmp.resolve("good.img"));
    bytes = Files.readAllBytes(image);
    try (Image i = Image.open(image, AccessMode.LAZY)) {
      header = i.header();
    }
  }

  private VerifyReport verify(byte[] content) throws Exception {
    Path p = Files.write(tmp.resolve("damaged-" + System.nanoTime() + ".img"), content);
    return new ImageVerifier(Progress.NONE).verify(p);
  }

  private static byte[] flip(byte[] b, long at) {
    byte[] c = b.clone();
    c[(int) at] ^= 0x40;
    return c;
  }

  @Test
  void goodImageHasNoProblems() throws Exception {
    VerifyReport r = verify(bytes);
    assertThat(r.problems()).isEmpty();
    assertThat(r.objects()).isEqualTo(header.objectCount());
    assertThat(r.unpackedBytes()).isPositive();
  }

  /**
   * A verifier keeps no state between calls (each is its own run): one verifier checking an intact
   * and a damaged image at once gives each its own report, as checking them one by one does.
   */
  @Test
  void oneVerifierChecksSeveralImagesAtOnceEachWithItsOwnReport() throws Exception {
    Path damaged = Files.write(tmp.resolve("damaged.img"), flip(bytes, header.packOffset() + 100));
    ImageVerifier verifier = new ImageVerifier(Progress.NONE);
    VerifyReport alone = verifier.verify(damaged);
    assertThat(alone.problems()).isNotEmpty();
    List<java.util.concurrent.Callable<VerifyReport>> runs = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Path p = i % 2 == 0 ? image : damaged;
      runs.add(() -> verifier.verify(p));
    }
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(runs.size())) {
      List<java.util.concurrent.Future<VerifyReport>> done = pool.invokeAll(runs);
      for (int i = 0; i < done.size(); i++) {
        VerifyReport r = done.get(i).get();
        if (i % 2 == 0) {
          assertThat(r.problems()).isEmpty();
          assertThat(r.objects()).isEqualTo(header.objectCount());
        } else {
          assertThat(r.problems()).isEqualTo(alone.problems());
        }
      }
    }
  }

  @Test
  void flippedByteInAnObjectNamesThatObjectAndItsOffset() throws Exception {
    PackIndex idx =
        PackIndex.read(
            new java.io.ByteArrayInputStream(
                bytes, (int) header.idxOffset(), (int) header.idxLength()));
    List<PackIndex.MutableEntry> entries = new java.util.ArrayList<>();
    idx.forEach(e -> entries.add(e.cloneEntry()));
    entries.sort(java.util.Comparator.comparingLong(PackIndex.MutableEntry::getOffset));
    Random r = new Random(5);
    for (int trial = 0; trial < 5; trial++) {
      int i = r.nextInt(entries.size() - 1);
      long start = header.packOffset() + entries.get(i).getOffset();
      long end = header.packOffset() + entries.get(i + 1).getOffset();
      long at = start + r.nextLong(end - start);
      VerifyReport rep = verify(flip(bytes, at));
      assertThat(rep.ok()).isFalse();
      assertThat(rep.problems())
          .anySatisfy(
              p -> {
                assertThat(p.object()).isEqualTo(entries.get(i).name());
                assertThat(p.offset()).isEqualTo(start);
                assertThat(p.message()).contains("CRC mismatch").contains(start + "..");
              });
    }
  }

  @Property(tries = 40)
  void anyFlippedByteAnywhereIsCaught(
      @ForAll @DoubleRange(min = 0, max = 1, maxIncluded = false) double where) throws Exception {
    makeImageOnce();
    long at = (long) (where * bytes.length);
    assertThat(verify(flip(bytes, at)).ok()).as("flip at %d", at).isFalse();
  }

  private void makeImageOnce() throws Exception {
    if (bytes == null) {
      tmp = Files.createTempDirectory("verify-prop-");
      makeImage();
    }
  }

  @Test
  void truncationIsNamed() throws Exception {
    for (long len : new long[] {0, 50, header.packOffset() + 100, bytes.length - 1}) {
      VerifyReport r = verify(java.util.Arrays.copyOf(bytes, (int) len));
      assertThat(r.ok()).isFalse();
      assertThat(r.problems().getFirst().message()).contains("truncated");
    }
  }

  @Test
  void wrongMagicIsNamed() throws Exception {
    VerifyReport r = verify(flip(bytes, 2));
    assertThat(r.problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.offset()).isEqualTo(2);
              assertThat(p.message()).contains("wrong magic");
            });
  }

  @Test
  void damagedHeaderFieldIsCaughtByItsChecksum() throws Exception {
    VerifyReport r = verify(flip(bytes, 20)); // inside the commit id
    assertThat(r.problems())
        .singleElement()
        .satisfies(p -> assertThat(p.message()).contains("header checksum mismatch"));
  }

  @Test
  void damagedPackTrailerIdxAndPathIndexAreNamed() throws Exception {
    long trailer = header.packOffset() + header.packLength() - 5;
    assertThat(verify(flip(bytes, trailer)).problems())
        .anySatisfy(p -> assertThat(p.message()).contains("PACK checksum mismatch"));
    long inIdx = header.idxOffset() + header.idxLength() / 2;
    assertThat(verify(flip(bytes, inIdx)).problems())
        .anySatisfy(p -> assertThat(p.message()).contains("IDX checksum mismatch"));
    long inPathIndex = header.pathIndexOffset() + header.pathIndexLength() - 3;
    assertThat(verify(flip(bytes, inPathIndex)).problems())
        .anySatisfy(p -> assertThat(p.message()).contains("path index"));
  }

  @Test
  void idxOfAnotherPackIsAMismatch() throws Exception {
    // Same shape (same object count, same IDX size), one file's content differs.
    Path src2 = TestTrees.random(Files.createDirectory(tmp.resolve("src2")), 11, 40);
    try (var files = Files.walk(src2)) {
      Path f =
          files
              .filter(Files::isRegularFile)
              .filter(p -> !Files.isSymbolicLink(p))
              .findFirst()
              .orElseThrow();
      byte[] c = Files.readAllBytes(f);
      c[0] ^= 1;
      Files.write(f, c);
    }
    byte[] other = Files.readAllBytes(TestTrees.makeImage(src2, tmp.resolve("other.img")));
    ImageHeader h2 = ImageHeader.decode("other", java.util.Arrays.copyOf(other, 128), other.length);
    assertThat(h2.idxLength()).isEqualTo(header.idxLength());
    byte[] spliced = bytes.clone();
    System.arraycopy(
        other, (int) h2.idxOffset(), spliced, (int) header.idxOffset(), (int) header.idxLength());
    VerifyReport r = verify(spliced);
    assertThat(r.problems()).anySatisfy(p -> assertThat(p.message()).contains("IDX/PACK mismatch"));
  }

  @Test
  void objectMissingFromThePackIsNamedWithItsPath() throws Exception {
    try (InMemoryRepository repo = new InMemoryRepository(new DfsRepositoryDescription("t"));
        ObjectInserter ins = repo.newObjectInserter()) {
      ObjectId present = ins.insert(Constants.OBJ_BLOB, "here\n".getBytes());
      ObjectId absent = ins.insert(Constants.OBJ_BLOB, "not packed\n".getBytes());
      TreeFormatter t = new TreeFormatter();
      t.append("absent.txt", FileMode.REGULAR_FILE, absent);
      t.append("present.txt", FileMode.REGULAR_FILE, present);
      ObjectId tree = ins.insert(t);
      CommitBuilder c = new CommitBuilder();
      c.setTreeId(tree);
      PersonIdent who =
          new PersonIdent("T", "t@x", TestTrees.DATE.toInstant(), TestTrees.DATE.getOffset());
      c.setAuthor(who);
      c.setCommitter(who);
      c.setMessage("m\n");
      ObjectId commit = ins.insert(c);
      ins.flush();
      List<ImageEntry> entries = ImageWriter.entries(repo.newObjectReader(), tree);

      ByteArrayOutputStream pack = new ByteArrayOutputStream();
      ByteArrayOutputStream idx = new ByteArrayOutputStream();
      int count;
      try (RevWalk rw = new RevWalk(repo);
          PackWriter pw = new PackWriter(new PackConfig(repo), repo.newObjectReader())) {
        List<RevObject> objs =
            List.of(rw.parseCommit(commit), rw.parseTree(tree), rw.lookupBlob(present));
        pw.preparePack(objs.iterator());
        pw.writePack(null, null, pack);
        pw.writeIndex(idx);
        count = (int) pw.getObjectCount();
      }
      byte[] pi = PathIndex.write(entries);
      CRC32C crc = new CRC32C();
      crc.update(pi);
      long po = ImageHeader.SIZE;
      long io = po + pack.size();
      long xo = io + idx.size();
      ImageHeader h =
          new ImageHeader(
              1,
              commit,
              tree,
              po,
              pack.size(),
              io,
              idx.size(),
              xo,
              pi.length,
              count,
              (int) crc.getValue());
      ByteArrayOutputStream img = new ByteArrayOutputStream();
      img.write(h.encode());
      img.write(pack.toByteArray());
      img.write(idx.toByteArray());
      img.write(pi);
      VerifyReport r = verify(img.toByteArray());
      assertThat(r.problems())
          .anySatisfy(
              p -> {
                assertThat(p.object()).isEqualTo(absent.name());
                assertThat(p.message()).contains("missing").contains("absent.txt");
              });
    }
  }
}
