package dev.spindle.image;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Resolves a path inside an image the way the kernel does: component by component, following
 * symlinks in the middle (and at the end when asked), with {@code ..} never climbing above the root
 * and at most {@value #MAX_HOPS} symlinks per lookup (as Linux's ELOOP limit).
 *
 * <p>The common case costs one lookup: the whole path is tried first, and the component walk only
 * runs when that misses (a symlinked directory in the middle, {@code ..}, or a real miss).
 */
public final class PathResolver {
  public static final int MAX_HOPS = 40;

  private final Image image;

  public PathResolver(Image image) {
    this.image = image;
  }

  /** The entry {@code path} names; symlinks in the middle are followed, the last one if asked. */
  public ImageEntry resolve(String path, boolean followLast) throws IOException {
    Optional<ImageEntry> r = tryResolve(path, followLast);
    return r.orElseThrow(() -> new NoSuchFileException("/" + Image.trim(path)));
  }

  public Optional<ImageEntry> tryResolve(String path, boolean followLast) throws IOException {
    if (isPlain(path)) {
      Optional<ImageEntry> direct = image.lookup(path);
      if (direct.isPresent() && !(followLast && direct.get().isSymlink())) {
        return direct;
      }
    }
    return walk(path, followLast);
  }

  private static boolean isPlain(String path) {
    return !path.contains("/./")
        && !path.contains("/../")
        && !path.startsWith("../")
        && !path.startsWith("./")
        && !path.endsWith("/..")
        && !path.endsWith("/.")
        && !path.equals("..")
        && !path.equals(".")
        && !path.contains("//");
  }

  private Optional<ImageEntry> walk(String path, boolean followLast) throws IOException {
    Deque<String> todo = new ArrayDeque<>(split(path));
    List<String> done = new ArrayList<>();
    ImageEntry current = image.rootEntry();
    int hops = 0;
    while (!todo.isEmpty()) {
      String name = todo.pollFirst();
      if (!current.isDirectory()) {
        // As the kernel: "file/x", and also "file/..", is ENOTDIR.
        throw new NotDirectoryException("/" + String.join("/", done));
      }
      if (name.equals("..")) {
        if (!done.isEmpty()) {
          done.removeLast();
        }
        current =
            done.isEmpty() ? image.rootEntry() : image.lookup(String.join("/", done)).orElseThrow();
        continue;
      }
      if (name.equals(".")) {
        continue;
      }
      done.add(name);
      Optional<ImageEntry> next = image.lookup(String.join("/", done));
      if (next.isEmpty()) {
        return Optional.empty();
      }
      ImageEntry e = next.get();
      if (e.isSymlink() && (followLast || !todo.isEmpty())) {
        if (++hops > MAX_HOPS) {
          throw new FileSystemException(
              "/" + Image.trim(path), null, "too many levels of symbolic links");
        }
        String target = image.readLink(e);
        done.removeLast();
        List<String> parts = split(target);
        for (int i = parts.size() - 1; i >= 0; i--) {
          todo.addFirst(parts.get(i));
        }
        if (target.startsWith("/")) {
          done.clear();
        }
        current =
            done.isEmpty() ? image.rootEntry() : image.lookup(String.join("/", done)).orElseThrow();
        continue;
      }
      current = e;
    }
    return Optional.of(current);
  }

  private static List<String> split(String path) {
    List<String> out = new ArrayList<>();
    for (String s : path.split("/")) {
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }
}
