package dev.spindle.fork;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * A snapshot's files as plain Git history: {@link #export} writes a bare repository whose branch
 * named by the tag holds one commit per snapshot of the chain (the snapshot, the one its sandbox
 * was branched from, ...), each commit's tree the sandbox's file view: one directory per guest
 * path, an image directory as the image with the snapshot's writable layer applied (no whiteout
 * left), a private directory as its files. So {@code git log TAG}, {@code git show TAG:app/f.txt}
 * and {@code git diff} between snapshots work with plain git. Bare, so that nothing a guest named
 * (a link, a {@code .git}) is ever checked out on the host by the export; {@code git clone} it to
 * look at files. {@code files.git} is only read.
 */
public final class FilesHistory {
  private FilesHistory() {}

  /** What was written: the commit the branch points at and the objects copied. */
  public record Exported(String commit, int commits, int objects) {}

  /** Opens image {@code tag} to read its objects; {@code root} null: whatever the tag holds. */
  @FunctionalInterface
  public interface Images {
    /**
     * The image, open.
     *
     * @throws IOException if there is no such image, it is refused, or it now holds another root
     */
    Image open(String tag, String root) throws IOException;
  }

  /** {@link #export(SpindleHome, Tag, Path, Images)} with the images of {@code home}'s store. */
  public static Exported export(SpindleHome home, Tag tag, Path out) throws IOException {
    ImageStore store = new ImageStore(home);
    return export(home, tag, out, (t, root) -> openStored(store, t, root));
  }

  /** Image {@code tag} of {@code store} (under its signature policy), if it holds {@code root}. */
  static Image openStored(ImageStore store, String tag, String root) throws IOException {
    if (!Tag.isValid(tag)) {
      throw new IOException("a snapshot names no valid image tag: '" + tag + "'");
    }
    Image img = store.open(Tag.of(tag), AccessMode.INDEXED);
    if (root != null && !img.root().name().equals(root)) {
      String now = img.root().name();
      img.close();
      throw new IOException(
          "image '"
              + tag
              + "' now holds root "
              + now
              + ", not "
              + root
              + " as when the snapshot was taken: its files cannot be shown");
    }
    return img;
  }

  /**
   * Writes snapshot {@code tag}'s file history into a new bare repository at {@code out} (which
   * must not exist, or be an empty directory): each commit of {@code files.git} from the snapshot's
   * back, rewritten with its file view as tree (same message, author, committer and times; parents
   * rewritten the same way), and every object those trees reach, copied from {@code files.git} or
   * an image and checked against its id on the way.
   *
   * @throws IOException if the snapshot has no files, an image it names cannot be opened, or an
   *     object is missing or damaged (named by id)
   */
  public static Exported export(SpindleHome home, Tag tag, Path out, Images images)
      throws IOException {
    if (Files.exists(out)) {
      try (var s = Files.list(out)) {
        if (s.findAny().isPresent()) {
          throw new IOException(out + " exists and is not empty");
        }
      }
    }
    FilesRepo files = new FilesRepo(home.filesRepo());
    List<Image> opened = new ArrayList<>();
    try {
      ObjectId head =
          files
              .commitOf(tag)
              .orElseThrow(
                  () ->
                      new IOException(
                          "snapshot '"
                              + tag
                              + "' has no files recorded (it had no private directory, or was made before files were recorded)"));
      Repository src = files.repo();
      try (Repository dst = new FileRepositoryBuilder().setGitDir(out.toFile()).setBare().build()) {
        dst.create(true);
        ObjectId newHead;
        int commits;
        int objects;
        // One pack rather than a loose object per file.
        try (ObjectInserter ins =
                ((org.eclipse.jgit.internal.storage.file.ObjectDirectory) dst.getObjectDatabase())
                    .newPackInserter();
            CheckedObjects objs = new CheckedObjects(ins)) {
          objs.add("files.git (" + files.directory() + ")", src.newObjectReader());
          Rewrite w = new Rewrite(new SnapshotStore(home), objs, images, opened);
          List<ObjectId> order = w.walk(tag, head);
          Map<ObjectId, ObjectId> rewritten = new HashMap<>();
          List<ObjectId> views = new ArrayList<>();
          for (ObjectId old : order) {
            RevCommit c = w.commits.get(old);
            ObjectId view = w.views.view(c.getTree().copy(), w.dirs(old));
            views.add(view);
            CommitBuilder b = new CommitBuilder();
            b.setTreeId(view);
            for (RevCommit p : c.getParents()) {
              b.addParentId(rewritten.get(p));
            }
            b.setAuthor(c.getAuthorIdent());
            b.setCommitter(c.getCommitterIdent());
            b.setEncoding(c.getEncoding());
            b.setMessage(c.getFullMessage());
            rewritten.put(old, ins.insert(b));
          }
          newHead = rewritten.get(head);
          commits = order.size();
          objects = commits + copyTrees(objs, views);
          ins.flush();
        } catch (org.eclipse.jgit.errors.MissingObjectException e) {
          throw new IOException(
              "the files of snapshot '"
                  + tag
                  + "' lack object "
                  + e.getObjectId().name()
                  + " ("
                  + e.getMessage()
                  + ")",
              e);
        }
        RefUpdate u = dst.updateRef(Constants.R_HEADS + tag.value());
        u.setNewObjectId(newHead);
        u.update();
        dst.updateRef(Constants.HEAD).link(Constants.R_HEADS + tag.value());
        return new Exported(newHead.name(), commits, objects);
      }
    } finally {
      for (Image img : opened) {
        img.close();
      }
      files.close();
    }
  }

  /**
   * Copies every object below the trees {@code roots} into the output (the trees the export made
   * are there already): each once, checked. How many objects the output holds for them.
   */
  private static int copyTrees(CheckedObjects objs, List<ObjectId> roots) throws IOException {
    Set<ObjectId> seen = new HashSet<>();
    Deque<ObjectId> trees = new ArrayDeque<>();
    for (ObjectId r : roots) {
      if (seen.add(r)) {
        trees.add(r);
      }
    }
    int n = 0;
    while (!trees.isEmpty()) {
      ObjectId t = trees.poll();
      n++;
      if (t.equals(Constants.EMPTY_TREE_ID)) {
        objs.put(List.of()); // not necessarily stored anywhere: Git knows it without
        continue;
      }
      byte[] raw = objs.copy(t, Constants.OBJ_TREE);
      org.eclipse.jgit.treewalk.CanonicalTreeParser p =
          new org.eclipse.jgit.treewalk.CanonicalTreeParser();
      p.reset(raw);
      for (; !p.eof(); p.next()) {
        FileMode m = p.getEntryFileMode();
        ObjectId id = p.getEntryObjectId();
        if (m == FileMode.GITLINK || !seen.add(id)) {
          continue; // a gitlink names a commit of another repository: nothing to copy
        }
        if (m == FileMode.TREE) {
          trees.add(id);
        } else {
          objs.copy(id, Constants.OBJ_BLOB);
          n++;
        }
      }
    }
    return n;
  }

  /**
   * The commits of the chain and what each one's view holds: read from {@code files.git} (checked),
   * and each commit's directories from its snapshot's state (the message names the snapshot, whose
   * {@code files_commit} must be the commit); a snapshot deleted since (or whose tag now names
   * another commit) has its child's directories, as a branch has the directories of the snapshot it
   * came from.
   */
  private static final class Rewrite {
    /** Bounds a snapshot's state read whole (its preopens, globals and tables). */
    private static final long MAX_STATE_BYTES = 64 << 20;

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
        new com.fasterxml.jackson.databind.ObjectMapper();

    final SnapshotStore store;
    final CheckedObjects objs;
    final Images images;
    final List<Image> opened;
    final ViewTrees views;
    final Map<ObjectId, RevCommit> commits = new HashMap<>();
    final Map<ObjectId, List<SandboxFiles.Recorded>> recorded = new HashMap<>();
    final Map<String, ObjectId> imageRoots = new HashMap<>();

    Rewrite(SnapshotStore store, CheckedObjects objs, Images images, List<Image> opened) {
      this.store = store;
      this.objs = objs;
      this.images = images;
      this.opened = opened;
      this.views = new ViewTrees(objs);
    }

    /** The commits from {@code head} back, parents before children. */
    List<ObjectId> walk(Tag tag, ObjectId head) throws IOException {
      List<ObjectId> order = new ArrayList<>();
      Set<ObjectId> done = new HashSet<>();
      Deque<ObjectId> stack = new ArrayDeque<>();
      RevCommit h = parse(head);
      List<SandboxFiles.Recorded> top = fromState(h);
      if (top == null) {
        throw new IOException(
            "snapshot '" + tag + "' has no state naming its files commit " + head.name());
      }
      recorded.put(head, top);
      stack.push(head);
      while (!stack.isEmpty()) {
        ObjectId id = stack.peek();
        if (done.contains(id)) {
          stack.pop();
          continue;
        }
        boolean ready = true;
        for (RevCommit p : commits.get(id).getParents()) {
          ObjectId pid = p.copy();
          if (!done.contains(pid)) {
            ready = false;
            if (!commits.containsKey(pid)) {
              List<SandboxFiles.Recorded> own = fromState(parse(pid));
              recorded.put(pid, own != null ? own : recorded.get(id));
            }
            stack.push(pid);
          }
        }
        if (ready) {
          stack.pop();
          done.add(id);
          order.add(id);
        }
      }
      return order;
    }

    private RevCommit parse(ObjectId id) throws IOException {
      RevCommit c = RevCommit.parse(objs.bytes(id, Constants.OBJ_COMMIT));
      commits.put(id, c);
      return c;
    }

    /** The directories commit {@code c}'s snapshot recorded, or null if no snapshot names it. */
    private List<SandboxFiles.Recorded> fromState(RevCommit c) throws IOException {
      String msg = c.getFullMessage().strip();
      if (!msg.startsWith("snapshot ")) {
        return null;
      }
      String t = msg.substring("snapshot ".length());
      if (!Tag.isValid(t) || !store.exists(Tag.of(t))) {
        return null;
      }
      // The state alone: the snapshot's pages need not be readable to show its files.
      Path file = store.directory(Tag.of(t)).resolve(SnapshotFormat.STATE);
      if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        return null;
      }
      if (Files.size(file) > MAX_STATE_BYTES) {
        throw new IOException(file + " is larger than " + MAX_STATE_BYTES + " bytes");
      }
      com.fasterxml.jackson.databind.JsonNode json;
      try {
        json = JSON.readTree(Files.readAllBytes(file));
      } catch (com.fasterxml.jackson.core.JacksonException e) {
        throw new IOException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
      }
      com.fasterxml.jackson.databind.JsonNode commit = json.get("files_commit");
      if (commit == null || !commit.asText().equals(c.getId().name())) {
        return null;
      }
      try {
        SandboxState state = SandboxState.fromJson(file, json);
        return store.files().recorded(state.wasi().preopens());
      } catch (RuntimeException e) {
        throw new IOException(file + ": " + e.getMessage(), e);
      }
    }

    /** Commit {@code id}'s directories, each image opened (once) for its root tree. */
    List<ViewTrees.Dir> dirs(ObjectId id) throws IOException {
      List<ViewTrees.Dir> out = new ArrayList<>();
      for (SandboxFiles.Recorded r : recorded.get(id)) {
        ObjectId root = r.imageTag() == null ? null : imageRoot(r.imageTag(), r.imageRoot());
        out.add(new ViewTrees.Dir(r.guest(), root, r.layer()));
      }
      return out;
    }

    private ObjectId imageRoot(String tag, String root) throws IOException {
      String key = tag + "/" + root;
      ObjectId id = imageRoots.get(key);
      if (id == null) {
        Image img = images.open(tag, root);
        opened.add(img);
        objs.add("image '" + tag + "' (" + img.file() + ")", img.repository().newObjectReader());
        id = img.root();
        imageRoots.put(key, id);
      }
      return id;
    }
  }
}
