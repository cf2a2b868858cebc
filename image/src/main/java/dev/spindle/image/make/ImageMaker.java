package dev.spindle.image.make;

import dev.spindle.image.ImageHeader;
import dev.spindle.image.MetadataTable;
import dev.spindle.image.Progress;
import dev.spindle.image.TreeChecks;
import dev.spindle.store.AtomicFiles;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.internal.storage.dfs.DfsRepositoryDescription;
import org.eclipse.jgit.internal.storage.dfs.InMemoryRepository;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.FetchConnection;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.Transport;

/**
 * Makes an image from a directory, a local repository or a remote Git URL, and writes it
 * atomically: the target path holds either the old file or the whole new one, never a part. A
 * source whose trees are malformed ({@link TreeChecks}) is refused before anything is written.
 */
public final class ImageMaker {
  private final MakeOptions options;
  private final Progress progress;
  private final ImageWriter.PackSettings pack;

  public ImageMaker(MakeOptions options, Progress progress) {
    this.options = options;
    this.progress = progress;
    ImageWriter.PackSettings d = ImageWriter.PackSettings.DEFAULT;
    this.pack = new ImageWriter.PackSettings(options.packWindow(), d.depth(), d.compressionLevel());
  }

  /** Makes an image of {@code source} at {@code target}; returns its header. */
  public ImageHeader make(String source, Path target) throws IOException {
    ImageSource src = ImageSource.parse(source, options.directoryAsFiles());
    ImageHeader[] header = new ImageHeader[1];
    switch (src) {
      case ImageSource.Directory d -> {
        try (InMemoryRepository repo = newMemoryRepository()) {
          byte[][] metadata = new byte[1][];
          ObjectId commit = commitDirectory(repo, d.dir(), metadata);
          requireWellFormed(repo, commit, d.dir().toString());
          AtomicFiles.write(
              target, out -> header[0] = writer().write(repo, commit, metadata[0], out));
        }
      }
      case ImageSource.LocalRepository l -> {
        try (Repository repo =
            new FileRepositoryBuilder().setGitDir(l.gitDir().toFile()).setMustExist(true).build()) {
          ObjectId commit = resolve(repo, l.gitDir().toString());
          requireWellFormed(repo, commit, l.gitDir().toString());
          AtomicFiles.write(target, out -> header[0] = writer().write(repo, commit, out));
        }
      }
      case ImageSource.RemoteRepository r -> {
        try (InMemoryRepository repo = newMemoryRepository()) {
          ObjectId commit = fetch(repo, r);
          requireWellFormed(repo, commit, r.uri().toString());
          AtomicFiles.write(target, out -> header[0] = writer().write(repo, commit, out));
        }
      }
    }
    return header[0];
  }

  /**
   * Refuses a commit whose trees git would call malformed. A repository can hold such trees (JGit
   * and git write what they are given), and a directory can too: a name like '.GIT' that git add
   * refuses. Every verify would refuse the image anyway; refusing here says so before the work.
   */
  private static void requireWellFormed(Repository repo, ObjectId commit, String where)
      throws IOException {
    List<TreeChecks.Problem> problems;
    try (ObjectReader reader = repo.newObjectReader();
        RevWalk rw = new RevWalk(reader)) {
      problems = TreeChecks.checkAll(reader, rw.parseCommit(commit).getTree());
    }
    if (!problems.isEmpty()) {
      String more = problems.size() == 1 ? "" : " (and " + (problems.size() - 1) + " more)";
      throw new IOException(
          "cannot make an image of " + where + ": " + problems.getFirst().message() + more);
    }
  }

  private ImageWriter writer() {
    return new ImageWriter(pack, progress);
  }

  private static InMemoryRepository newMemoryRepository() {
    return new InMemoryRepository(new DfsRepositoryDescription("spindle-make"));
  }

  /**
   * Commits {@code dir}'s tree; its metadata section goes into {@code metadata[0]}, and the commit
   * message names the section's SHA-256, so the commit id (and a signature) covers it.
   */
  private ObjectId commitDirectory(Repository repo, Path dir, byte[][] metadata)
      throws IOException {
    try (ObjectInserter ins = repo.newObjectInserter()) {
      progress.begin("Hashing files", 0);
      DirectoryTreeWriter w =
          new DirectoryTreeWriter(ins, progress, options.owners(), options.metadata());
      ObjectId tree = w.write(dir);
      metadata[0] = w.metadata().write();
      progress.end();
      OffsetDateTime when =
          options.date() != null
              ? options.date()
              : OffsetDateTime.now(java.time.ZoneId.systemDefault());
      PersonIdent who =
          new PersonIdent(
              options.authorName(), options.authorEmail(), when.toInstant(), when.getOffset());
      CommitBuilder c = new CommitBuilder();
      c.setTreeId(tree);
      c.setAuthor(who);
      c.setCommitter(who);
      Path name = dir.toAbsolutePath().normalize().getFileName();
      c.setMessage(
          "Spindle image of "
              + (name == null ? "/" : name)
              + "\n\n"
              + MetadataTable.COMMIT_TRAILER
              + Hashes.sha256Hex(metadata[0])
              + "\n");
      ObjectId id = ins.insert(c);
      ins.flush();
      return id;
    }
  }

  private ObjectId resolve(Repository repo, String where) throws IOException {
    String ref = options.ref() == null ? Constants.HEAD : options.ref();
    ObjectId id = repo.resolve(ref + "^{commit}");
    if (id == null) {
      throw new IOException("no commit '" + ref + "' in " + where);
    }
    return id;
  }

  /** Fetches just the wanted ref's commit and tree (depth 1) into {@code repo}. */
  private ObjectId fetch(Repository repo, ImageSource.RemoteRepository r) throws IOException {
    String want = options.ref() == null ? Constants.HEAD : options.ref();
    try (Transport t = Transport.open(repo, r.uri())) {
      Ref remote;
      try (FetchConnection fc = t.openFetch()) {
        remote = pick(fc.getRefs(), want, r.uri().toString());
      }
      String local = "refs/spindle/source";
      t.setDepth(1);
      t.setTagOpt(org.eclipse.jgit.transport.TagOpt.NO_TAGS);
      progress.begin("Fetching " + r.uri(), 0);
      t.fetch(
          new JGitProgress(progress), List.of(new RefSpec("+" + remote.getName() + ":" + local)));
      progress.end();
      return resolveFetched(repo, local, r.uri().toString());
    } catch (org.eclipse.jgit.errors.TransportException e) {
      throw new IOException("cannot fetch " + r.uri() + ": " + e.getMessage(), e);
    } catch (GitAPIException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  private ObjectId resolveFetched(Repository repo, String local, String where)
      throws IOException, GitAPIException {
    ObjectId id = repo.resolve(local + "^{commit}");
    if (id == null) {
      throw new IOException("fetched nothing for '" + local + "' from " + where);
    }
    return id;
  }

  private static Ref pick(Collection<Ref> refs, String want, String where) throws IOException {
    List<String> candidates = new ArrayList<>();
    candidates.add(want);
    for (String prefix : List.of(Constants.R_HEADS, Constants.R_TAGS, Constants.R_REFS)) {
      candidates.add(prefix + want);
    }
    for (String name : candidates) {
      for (Ref ref : refs) {
        if (ref.getName().equals(name)) {
          return ref.isSymbolic() ? ref.getTarget() : ref;
        }
      }
    }
    throw new IOException("no ref '" + want + "' at " + where);
  }
}
