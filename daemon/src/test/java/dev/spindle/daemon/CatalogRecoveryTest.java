package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.fork.SnapshotStore;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start verifies a ready artifact in full only when its files changed since they last verified:
 * the recorded fingerprint decides, and any write to the files changes it.
 */
class CatalogRecoveryTest {
  @TempDir Path tmp;

  private record Node(SpindleHome home, ImageStore images, SnapshotStore snapshots, StateDb db) {
    static Node open(Path root) throws Exception {
      SpindleHome home = new SpindleHome(root);
      home.create();
      return new Node(
          home, new ImageStore(home), new SnapshotStore(home), new StateDb(home.stateDb()));
    }

    List<String> recover() throws Exception {
      return new CatalogRecovery(home, images, snapshots, db).run();
    }

    ImageInfo row(String tag) {
      return db.get(tag).orElseThrow();
    }
  }

  private static void flipByte(Path file, int at) throws Exception {
    byte[] b = Files.readAllBytes(file);
    b[at] ^= 1;
    Files.write(file, b);
  }

  @Test
  void unchangedFilesAreNotReadAgainAndChangedOnesAre() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f.txt"), "content the recovery reads, or not\n");
    Node n = Node.open(tmp.resolve("home"));
    try {
      Tag tag = Tag.of("app");
      n.images().make(src.toString(), tag, MakeOptions.defaults(), Progress.NONE);
      // Adopted at the first start: verified in full, and its fingerprint recorded.
      assertThat(n.recover()).isEmpty();
      assertThat(n.row("app").status()).isEqualTo("ready");
      String first = n.db().verifiedFingerprint("app").orElseThrow();

      // Damage the file, then record its fingerprint as verified, as if it had verified after
      // the damage: the next start trusts the record and does not read the file.
      Path img = n.images().path(tag);
      flipByte(img, 200);
      String damaged = FileFingerprint.ofArtifact(n.images(), n.snapshots(), Catalog.IMAGE, tag);
      assertThat(damaged).as("a write changes the fingerprint").isNotEqualTo(first);
      n.db().verified("app", damaged);
      assertThat(n.recover()).isEmpty();
      assertThat(n.row("app").status()).isEqualTo("ready");

      // Without that record (the file changed since it verified), the start reads it again.
      n.db().verified("app", first);
      assertThat(n.recover()).singleElement().asString().startsWith("app: damaged:");
      assertThat(n.row("app").status()).isEqualTo("failed");
    } finally {
      n.db().close();
    }
  }
}
