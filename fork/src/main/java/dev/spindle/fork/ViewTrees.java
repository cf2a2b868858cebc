package dev.spindle.fork;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.treewalk.CanonicalTreeParser;

/**
 * A snapshot's file view as one Git tree: its files commit's tree with each image directory's image
 * in place (a read-only one: the image's root tree; a writable one: the image's root with the
 * commit's layer tree applied, the OCI rule, no whiteout left). Only the trees on the paths a layer
 * or a guest path changes are new; every other subtree keeps its id (an image's untouched
 * directories are the image's own trees).
 */
final class ViewTrees {
  /** One directory of the view: at {@code guest}, an image (its root tree) or a private tree. */
  record Dir(String guest, ObjectId imageRoot, boolean layer) {}

  private final CheckedObjects objects;

  ViewTrees(CheckedObjects objects) {
    this.objects = objects;
  }

  /**
   * The view of a files commit's tree {@code tree} given its directories: each is put at its guest
   * path, parents before the guest paths below them (which replace what the parent holds there, as
   * they do for the guest).
   */
  ObjectId view(ObjectId tree, List<Dir> dirs) throws IOException {
    List<Dir> sorted = new ArrayList<>(dirs);
    sorted.sort(Comparator.comparingInt(d -> components(d.guest()).size()));
    ObjectId view = tree;
    for (Dir d : sorted) {
      List<String> path = components(d.guest());
      ObjectId stored = at(tree, path);
      ObjectId sub;
      if (d.imageRoot() == null) {
        sub = stored;
      } else if (d.layer() && stored != null) {
        sub = applyLayer(d.imageRoot(), stored);
      } else {
        sub = d.imageRoot();
      }
      if (sub != null) {
        view = put(view, path, 0, sub);
      }
    }
    return view;
  }

  /** {@code /a/b} as {@code [a, b]}; the root {@code /} as none. */
  static List<String> components(String guest) {
    String rel = guest.startsWith("/") ? guest.substring(1) : guest;
    return rel.isEmpty() ? List.of() : List.of(rel.split("/"));
  }

  /**
   * Layer tree {@code layer} over tree {@code base} (null: none), the OCI rule: {@code .wh.NAME}
   * deletes {@code NAME}, a directory holding {@code .wh..wh..opq} replaces the one below instead
   * of merging into it, anything else replaces (a directory merges into a directory). The result
   * holds no whiteout.
   */
  ObjectId applyLayer(ObjectId base, ObjectId layer) throws IOException {
    Map<String, FilesRepo.Entry> top = entries(layer);
    if (top.isEmpty() && base != null) {
      return base;
    }
    Map<String, FilesRepo.Entry> out = base == null ? new TreeMap<>() : entries(base);
    if (top.containsKey(FilesRepo.OPAQUE)) {
      out.clear();
    }
    // Whiteouts first: an entry of the same layer beside one (a guest path below) stays.
    for (String name : top.keySet()) {
      if (name.startsWith(FilesRepo.WHITEOUT)) {
        out.remove(name.substring(FilesRepo.WHITEOUT.length()));
      }
    }
    for (FilesRepo.Entry e : top.values()) {
      if (e.name().startsWith(FilesRepo.WHITEOUT)) {
        continue;
      }
      if (e.mode() == FileMode.TREE) {
        FilesRepo.Entry below = out.get(e.name());
        ObjectId under = below != null && below.mode() == FileMode.TREE ? below.id() : null;
        out.put(e.name(), new FilesRepo.Entry(e.name(), FileMode.TREE, applyLayer(under, e.id())));
      } else {
        out.put(e.name(), e);
      }
    }
    return objects.put(out.values());
  }

  /** The tree at {@code path} below {@code tree}, or null if there is none (or not a tree). */
  private ObjectId at(ObjectId tree, List<String> path) throws IOException {
    ObjectId t = tree;
    for (String name : path) {
      FilesRepo.Entry e = entries(t).get(name);
      if (e == null || e.mode() != FileMode.TREE) {
        return null;
      }
      t = e.id();
    }
    return t;
  }

  /** {@code tree} (null: an empty one) with {@code sub} at {@code path} from index {@code i}. */
  private ObjectId put(ObjectId tree, List<String> path, int i, ObjectId sub) throws IOException {
    if (i == path.size()) {
      return sub;
    }
    Map<String, FilesRepo.Entry> es = tree == null ? new TreeMap<>() : entries(tree);
    String name = path.get(i);
    FilesRepo.Entry e = es.get(name);
    ObjectId below = e != null && e.mode() == FileMode.TREE ? e.id() : null;
    es.put(name, new FilesRepo.Entry(name, FileMode.TREE, put(below, path, i + 1, sub)));
    return objects.put(es.values());
  }

  /** The entries of tree {@code id} (checked against its id), by name. */
  Map<String, FilesRepo.Entry> entries(ObjectId id) throws IOException {
    Map<String, FilesRepo.Entry> out = new TreeMap<>();
    if (id.equals(Constants.EMPTY_TREE_ID)) {
      return out;
    }
    CanonicalTreeParser p = new CanonicalTreeParser();
    p.reset(objects.bytes(id, Constants.OBJ_TREE));
    for (; !p.eof(); p.next()) {
      String name = p.getEntryPathString();
      out.put(name, new FilesRepo.Entry(name, p.getEntryFileMode(), p.getEntryObjectId()));
    }
    return out;
  }
}
