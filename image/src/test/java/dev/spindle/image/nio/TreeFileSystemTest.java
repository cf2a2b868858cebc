package dev.spindle.image.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.Image;
import dev.spindle.image.ObjectSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.DeflaterOutputStream;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Git tree of a plain repository (no image file) read through the image file system. */
class TreeFileSystemTest {
  @TempDir Path dir;
  private Repository repo;
  private ObjectId commit;
  private ObjectId tree;
  private ObjectId big;
  private ObjectId small;
  private final byte[] bigBytes = new byte[3 << 20];

  @BeforeEach
  void makeRepository() throws IOException {
    repo = new FileRepositoryBuilder().setGitDir(dir.resolve("r.git").toFile()).setBare().build();
    repo.create(true);
    for (int i = 0; i < bigBytes.length; i++) {
      bigBytes[i] = (byte) (i * 31 + (i >> 9));
    }
    try (ObjectInserter ins = repo.newObjectInserter()) {
      small = ins.insert(Constants.OBJ_BLOB, "hello\n".getBytes(StandardCharsets.UTF_8));
      big = ins.insert(Constants.OBJ_BLOB, bigBytes);
      ObjectId link = ins.insert(Constants.OBJ_BLOB, "f.txt".getBytes(StandardCharsets.UTF_8));
      TreeFormatter sub = new TreeFormatter();
      sub.append("big.bin", FileMode.REGULAR_FILE, big);
      sub.append("run.sh", FileMode.EXECUTABLE_FILE, small);
      ObjectId subId = ins.insert(sub);
      TreeFormatter top = new TreeFormatter();
      top.append("empty", FileMode.TREE, ins.insert(new TreeFormatter()));
      top.append("f.txt", FileMode.REGULAR_FILE, small);
      top.append("l", FileMode.SYMLINK, link);
      top.append("sub", FileMode.TREE, subId);
      tree = ins.insert(top);
      CommitBuilder c = new CommitBuilder();
      c.setTreeId(tree);
      PersonIdent who =
          new PersonIdent("t", "t@localhost", Instant.EPOCH, java.time.ZoneOffset.UTC);
      c.setAuthor(who);
      c.setCommitter(who);
      c.setMessage("t\n");
      commit = ins.insert(c);
      ins.flush();
    }
  }

  @AfterEach
  void close() {
    repo.close();
  }

  private FileSystem open() throws IOException {
    Image image = Image.ofTree(repo.getDirectory().toPath(), ObjectSource.of(repo), commit, tree);
    return TreeFileSystems.open(image, dir.resolve("r.git").resolve(tree.name()));
  }

  @Test
  void readsListsAndFollowsTheTree() throws IOException {
    try (FileSystem fs = open()) {
      Path root = fs.getPath("/");
      try (Stream<Path> s = Files.list(root)) {
        assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
            .containsExactly("empty", "f.txt", "l", "sub");
      }
      assertThat(Files.readString(fs.getPath("/f.txt"))).isEqualTo("hello\n");
      assertThat(Files.isSymbolicLink(fs.getPath("/l"))).isTrue();
      assertThat(Files.readSymbolicLink(fs.getPath("/l")).toString()).isEqualTo("f.txt");
      assertThat(Files.isDirectory(fs.getPath("/empty"), LinkOption.NOFOLLOW_LINKS)).isTrue();
      assertThat(Files.size(fs.getPath("/sub/big.bin"))).isEqualTo(bigBytes.length);
      assertThat(Files.readAllBytes(fs.getPath("/sub/big.bin"))).isEqualTo(bigBytes);
      try (InputStream in = Files.newInputStream(fs.getPath("/sub/big.bin"))) {
        assertThat(in.readAllBytes()).isEqualTo(bigBytes);
      }
      assertThat(Files.isExecutable(fs.getPath("/sub/run.sh"))).isTrue();
      assertThat(Files.getLastModifiedTime(fs.getPath("/f.txt")).toInstant())
          .isEqualTo(Instant.EPOCH);
      assertThatThrownBy(() -> Files.readString(fs.getPath("/nope")))
          .isInstanceOf(NoSuchFileException.class);
      assertThatThrownBy(() -> Files.writeString(fs.getPath("/f.txt"), "x"))
          .isInstanceOf(ReadOnlyFileSystemException.class);
    }
    // The repository stays open for its owner.
    assertThat(repo.getObjectDatabase().has(small)).isTrue();
  }

  @Test
  void aDamagedObjectIsNamedByPathAndIdOnRead() throws IOException {
    replaceLoose(small, "bye!!\n".getBytes(StandardCharsets.UTF_8));
    try (FileSystem fs = open()) {
      assertThatThrownBy(() -> Files.readAllBytes(fs.getPath("/f.txt")))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("/f.txt")
          .hasMessageContaining(small.name())
          .hasMessageContaining("damaged");
    }
  }

  @Test
  void aDamagedLargeObjectIsNamedWhenItsStreamEnds() throws IOException {
    byte[] altered = bigBytes.clone();
    altered[12345] ^= 1;
    replaceLoose(big, altered);
    try (FileSystem fs = open()) {
      assertThatThrownBy(
              () -> {
                try (InputStream in = Files.newInputStream(fs.getPath("/sub/big.bin"))) {
                  in.transferTo(OutputStream.nullOutputStream());
                }
              })
          .isInstanceOf(IOException.class)
          .hasMessageContaining("/sub/big.bin")
          .hasMessageContaining(big.name());
    }
  }

  @Test
  void aMissingObjectIsNamedByPathAndId() throws IOException {
    Files.delete(loose(small));
    try (FileSystem fs = open()) {
      // run.sh shares the blob; its lookup needs the size, its read the bytes.
      assertThatThrownBy(() -> Files.readAllBytes(fs.getPath("/f.txt")))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("f.txt")
          .hasMessageContaining(small.name())
          .hasMessageContaining("missing");
    }
  }

  private Path loose(ObjectId id) {
    return dir.resolve("r.git/objects")
        .resolve(id.name().substring(0, 2))
        .resolve(id.name().substring(2));
  }

  /** Rewrites the loose object {@code id} to hold {@code content} instead (still a valid blob). */
  private void replaceLoose(ObjectId id, byte[] content) throws IOException {
    Path p = loose(id);
    p.toFile().setWritable(true);
    try (OutputStream out = new DeflaterOutputStream(Files.newOutputStream(p))) {
      out.write(("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII));
      out.write(content);
    }
    assertThat(List.of(p)).allMatch(Files::exists);
  }
}
