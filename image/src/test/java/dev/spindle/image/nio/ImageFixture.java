package dev.spindle.image.nio;

import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Random;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * A source directory with every kind of entry an image holds, and the image made from it. The
 * directory stays on disk as the oracle: what the default file system says about it is what the
 * image file system must say.
 */
record ImageFixture(Path source, Path image) {
  static final OffsetDateTime DATE = OffsetDateTime.of(2024, 5, 17, 9, 30, 0, 0, ZoneOffset.UTC);

  /** Larger than 1 MiB and than the streamed tests' buffer limit. */
  static final int BIG_SIZE = 1_536 * 1024 + 7;

  static ImageFixture create(Path dir) throws IOException {
    Path src = Files.createDirectories(dir.resolve("source"));
    file(src, "hello.txt", "hello\n", "rw-r--r--");
    file(src, "empty", "", "rw-r--r--");
    file(src, "bin/tool.sh", "#!/bin/sh\necho tool\n", "rwxr-xr-x");
    file(src, "docs/guide/readme.md", "# Guide\n", "rw-r--r--");
    file(src, "docs/guide/notes.txt", "notes\n", "rw-r--r--");
    file(src, "docs/a.txt", "a\n", "rw-r--r--");
    file(src, ".hidden", "secret\n", "rw-r--r--");
    file(src, ".config/settings", "x=1\n", "rw-r--r--");
    file(src, "naïve café.txt", "crème brûlée\n", "rw-r--r--");
    file(src, "日本/データ.txt", "データ\n", "rwxr-xr-x");
    byte[] big = new byte[BIG_SIZE];
    new Random(42).nextBytes(big);
    Files.write(src.resolve("big.bin"), big);
    Files.setPosixFilePermissions(
        src.resolve("big.bin"), PosixFilePermissions.fromString("rw-r--r--"));
    Files.createSymbolicLink(src.resolve("link-to-hello"), Path.of("hello.txt"));
    Files.createSymbolicLink(src.resolve("docs-link"), Path.of("docs"));
    Files.createSymbolicLink(src.resolve("docs/guide/up"), Path.of("../a.txt"));
    Files.createSymbolicLink(src.resolve("dangling"), Path.of("nowhere/at/all"));
    Files.createSymbolicLink(src.resolve("loop-a"), Path.of("loop-b"));
    Files.createSymbolicLink(src.resolve("loop-b"), Path.of("loop-a"));
    try (var dirs = Files.walk(src)) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) {
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    Path image = dir.resolve("fixture.img");
    new ImageMaker(MakeOptions.defaults().withDate(DATE), Progress.NONE)
        .make(src.toString(), image);
    return new ImageFixture(src, image);
  }

  /** A bare repository whose HEAD commit has a README and a gitlink at lib/sub. */
  static Path repositoryWithSubmodule(Path gitDir) throws IOException {
    try (Repository repo =
        new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setBare().build()) {
      repo.create(true);
      try (ObjectInserter ins = repo.newObjectInserter()) {
        ObjectId readme =
            ins.insert(Constants.OBJ_BLOB, "read me\n".getBytes(StandardCharsets.UTF_8));
        TreeFormatter lib = new TreeFormatter();
        lib.append(
            "sub",
            FileMode.GITLINK,
            ObjectId.fromString("0123456789abcdef0123456789abcdef01234567"));
        ObjectId libId = ins.insert(lib);
        TreeFormatter top = new TreeFormatter();
        top.append("README", FileMode.REGULAR_FILE, readme);
        top.append("lib", FileMode.TREE, libId);
        CommitBuilder c = new CommitBuilder();
        c.setTreeId(ins.insert(top));
        PersonIdent who = new PersonIdent("T", "t@example.org", DATE.toInstant(), ZoneOffset.UTC);
        c.setAuthor(who);
        c.setCommitter(who);
        c.setMessage("with a submodule\n");
        ObjectId commit = ins.insert(c);
        ins.flush();
        RefUpdate u = repo.updateRef("refs/heads/main");
        u.setNewObjectId(commit);
        u.forceUpdate();
        repo.updateRef(Constants.HEAD).link("refs/heads/main");
      }
    }
    return gitDir;
  }

  private static void file(Path root, String path, String content, String perms)
      throws IOException {
    Path p = root.resolve(path);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
  }
}
