package dev.spindle.image.nio;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * A path in an image: an immutable value (root flag + names) with no I/O of its own. The only
 * methods that touch the image, {@link #toRealPath}, hand the work to the file system's operations.
 * Names are kept as Strings because the image API ({@code Image.lookup}, {@code ImageEntry.path})
 * speaks UTF-8 Strings; a name can contain any character but '/' and NUL.
 *
 * <p>As on Unix, the empty path {@code ""} has one name, the empty name; it resolves to the root,
 * which is the working directory of every image file system.
 */
final class ImagePath implements Path {
  private final ImageFileSystem fs;
  private final boolean absolute;
  private final List<String> names; // never contains "" except as the single name of ""

  private ImagePath(ImageFileSystem fs, boolean absolute, List<String> names) {
    this.fs = fs;
    this.absolute = absolute;
    this.names = names.isEmpty() && !absolute ? List.of("") : List.copyOf(names);
  }

  /** Parses the joined string form; '/' separates names, repeated and trailing '/' are ignored. */
  static ImagePath parse(ImageFileSystem fs, String first, String... more) {
    StringBuilder s = new StringBuilder(first);
    for (String m : more) {
      if (!m.isEmpty()) {
        if (!s.isEmpty()) {
          s.append('/');
        }
        s.append(m);
      }
    }
    String joined = s.toString();
    int nul = joined.indexOf('\0');
    if (nul >= 0) {
      throw new InvalidPathException(joined, "NUL character not allowed", nul);
    }
    List<String> names = new ArrayList<>();
    for (String n : joined.split("/")) {
      if (!n.isEmpty()) {
        names.add(n);
      }
    }
    return new ImagePath(fs, joined.startsWith("/"), names);
  }

  static ImagePath root(ImageFileSystem fs) {
    return new ImagePath(fs, true, List.of());
  }

  private boolean isEmptyPath() {
    return !absolute && names.size() == 1 && names.getFirst().isEmpty();
  }

  /** The path the image API takes: relative to the image root, no leading '/'. */
  String imagePath() {
    return isEmptyPath() ? "" : String.join("/", names);
  }

  private ImagePath with(boolean abs, List<String> n) {
    return new ImagePath(fs, abs, n);
  }

  static ImagePath check(Path p) {
    Objects.requireNonNull(p, "path");
    if (!(p instanceof ImagePath ip)) {
      throw new ProviderMismatchException(
          "not a path of a Spindle image file system: " + p.getClass().getName());
    }
    return ip;
  }

  @Override
  public ImageFileSystem getFileSystem() {
    return fs;
  }

  @Override
  public boolean isAbsolute() {
    return absolute;
  }

  @Override
  public ImagePath getRoot() {
    return absolute ? root(fs) : null;
  }

  @Override
  public ImagePath getFileName() {
    if (names.isEmpty()) {
      return null;
    }
    return names.size() == 1 && !absolute ? this : with(false, List.of(names.getLast()));
  }

  @Override
  public ImagePath getParent() {
    if (names.isEmpty() || (names.size() == 1 && !absolute)) {
      return null;
    }
    return with(absolute, names.subList(0, names.size() - 1));
  }

  @Override
  public int getNameCount() {
    return names.size();
  }

  @Override
  public ImagePath getName(int index) {
    return subpath(index, index + 1);
  }

  @Override
  public ImagePath subpath(int beginIndex, int endIndex) {
    if (beginIndex < 0
        || beginIndex >= names.size()
        || endIndex <= beginIndex
        || endIndex > names.size()) {
      throw new IllegalArgumentException(
          "subpath("
              + beginIndex
              + ", "
              + endIndex
              + ") of a path with "
              + names.size()
              + " names");
    }
    return with(false, names.subList(beginIndex, endIndex));
  }

  @Override
  public boolean startsWith(Path other) {
    ImagePath o = sameFileSystem(other);
    return o != null
        && o.absolute == absolute
        && o.names.size() <= names.size()
        && names.subList(0, o.names.size()).equals(o.names);
  }

  @Override
  public boolean endsWith(Path other) {
    ImagePath o = sameFileSystem(other);
    if (o == null || (o.absolute && !absolute)) {
      return false;
    }
    if (o.absolute) {
      return equals(o);
    }
    int n = names.size();
    int k = o.names.size();
    return k <= n && names.subList(n - k, n).equals(o.names);
  }

  /** {@code other} as an ImagePath of this file system, or null (then no relation holds). */
  private ImagePath sameFileSystem(Path other) {
    Objects.requireNonNull(other, "other");
    return other instanceof ImagePath ip && ip.fs == fs ? ip : null;
  }

  @Override
  public ImagePath normalize() {
    List<String> out = new ArrayList<>();
    for (String n : names) {
      if (n.equals(".") || n.isEmpty()) {
        continue;
      }
      if (n.equals("..") && !out.isEmpty() && !out.getLast().equals("..")) {
        out.removeLast();
      } else if (!(n.equals("..") && absolute)) { // ".." at the root stays at the root
        out.add(n);
      }
    }
    return with(absolute, out);
  }

  @Override
  public ImagePath resolve(Path other) {
    ImagePath o = check(other);
    if (o.fs != fs) {
      throw new ProviderMismatchException("path of another image file system: " + other);
    }
    if (o.absolute) {
      return o;
    }
    if (o.isEmptyPath()) {
      return this;
    }
    if (isEmptyPath()) {
      return o;
    }
    List<String> joined = new ArrayList<>(names);
    joined.addAll(o.names);
    return with(absolute, joined);
  }

  @Override
  public ImagePath relativize(Path other) {
    ImagePath o = check(other);
    if (o.fs != fs) {
      throw new ProviderMismatchException("path of another image file system: " + other);
    }
    if (o.absolute != absolute) {
      throw new IllegalArgumentException(
          "cannot relativize " + other + " against " + this + ": one is absolute, one not");
    }
    List<String> from = isEmptyPath() ? List.of() : names;
    List<String> to = o.isEmptyPath() ? List.of() : o.names;
    int common = 0;
    while (common < from.size() && common < to.size() && from.get(common).equals(to.get(common))) {
      common++;
    }
    List<String> out = new ArrayList<>();
    for (int i = common; i < from.size(); i++) {
      if (from.get(i).equals("..")) { // climbing back down would need the name ".." left
        throw new IllegalArgumentException("cannot relativize " + other + " against " + this);
      }
      out.add("..");
    }
    out.addAll(to.subList(common, to.size()));
    return with(false, out);
  }

  @Override
  public URI toUri() {
    return ImageUris.toUri(fs.imageFile(), toAbsolutePath().toString());
  }

  @Override
  public ImagePath toAbsolutePath() {
    return absolute ? this : root(fs).resolve(this);
  }

  /** Resolves symlinks through the file system's operations (this is the only method with I/O). */
  @Override
  public ImagePath toRealPath(LinkOption... options) throws IOException {
    return fs.operations().toRealPath(this, options);
  }

  @Override
  public WatchKey register(
      WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
    throw new UnsupportedOperationException("an image never changes: nothing to watch");
  }

  @Override
  public Iterator<Path> iterator() {
    List<Path> out = new ArrayList<>(names.size());
    for (int i = 0; i < names.size(); i++) {
      out.add(getName(i));
    }
    return out.iterator();
  }

  /** By UTF-8 bytes, as UnixPath and Git order names (String order differs past U+FFFF). */
  @Override
  public int compareTo(Path other) {
    return Arrays.compareUnsigned(utf8(), ((ImagePath) other).utf8());
  }

  private byte[] utf8() {
    return toString().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImagePath p
        && p.fs == fs
        && p.absolute == absolute
        && p.names.equals(names);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * System.identityHashCode(fs) + Boolean.hashCode(absolute)) + names.hashCode();
  }

  @Override
  public String toString() {
    String joined = String.join("/", names);
    return absolute ? "/" + joined : joined;
  }
}
