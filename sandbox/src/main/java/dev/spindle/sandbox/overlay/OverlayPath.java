package dev.spindle.sandbox.overlay;

import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A path of an overlay: names separated by '/', absolute or relative. A value; no I/O. */
final class OverlayPath implements Path {
  private final OverlayFileSystem fs;
  private final boolean absolute;
  private final List<String> names;

  OverlayPath(OverlayFileSystem fs, boolean absolute, List<String> names) {
    this.fs = fs;
    this.absolute = absolute;
    this.names = List.copyOf(names);
  }

  static OverlayPath parse(OverlayFileSystem fs, String first, String... more) {
    StringBuilder all = new StringBuilder(first);
    for (String m : more) {
      if (!m.isEmpty()) {
        all.append('/').append(m);
      }
    }
    String s = all.toString();
    if (s.indexOf('\0') >= 0) {
      throw new java.nio.file.InvalidPathException(s, "NUL in path");
    }
    List<String> names = new ArrayList<>();
    for (String n : s.split("/")) {
      if (!n.isEmpty()) {
        names.add(n);
      }
    }
    return new OverlayPath(fs, s.startsWith("/"), names);
  }

  /** The names from the root (the path must be absolute). */
  List<String> names() {
    return names;
  }

  static OverlayPath check(Path p) {
    if (p instanceof OverlayPath o) {
      return o;
    }
    throw new ProviderMismatchException("not an overlay path: " + p);
  }

  @Override
  public FileSystem getFileSystem() {
    return fs;
  }

  @Override
  public boolean isAbsolute() {
    return absolute;
  }

  @Override
  public Path getRoot() {
    return absolute ? new OverlayPath(fs, true, List.of()) : null;
  }

  @Override
  public Path getFileName() {
    return names.isEmpty() ? null : new OverlayPath(fs, false, List.of(names.getLast()));
  }

  @Override
  public Path getParent() {
    if (names.isEmpty() || (!absolute && names.size() == 1)) {
      return absolute && !names.isEmpty() ? getRoot() : null;
    }
    return new OverlayPath(fs, absolute, names.subList(0, names.size() - 1));
  }

  @Override
  public int getNameCount() {
    return names.size();
  }

  @Override
  public Path getName(int index) {
    return new OverlayPath(fs, false, List.of(names.get(index)));
  }

  @Override
  public Path subpath(int begin, int end) {
    return new OverlayPath(fs, false, names.subList(begin, end));
  }

  @Override
  public boolean startsWith(Path other) {
    return other instanceof OverlayPath o
        && o.fs == fs
        && o.absolute == absolute
        && o.names.size() <= names.size()
        && names.subList(0, o.names.size()).equals(o.names);
  }

  @Override
  public boolean endsWith(Path other) {
    return other instanceof OverlayPath o
        && o.fs == fs
        && (!o.absolute || (absolute && o.names.equals(names)))
        && o.names.size() <= names.size()
        && names.subList(names.size() - o.names.size(), names.size()).equals(o.names);
  }

  @Override
  public Path normalize() {
    List<String> out = new ArrayList<>();
    for (String n : names) {
      if (n.equals(".")) {
        continue;
      }
      if (n.equals("..") && !out.isEmpty() && !out.getLast().equals("..")) {
        out.removeLast();
      } else if (!(n.equals("..") && absolute)) {
        out.add(n);
      }
    }
    return new OverlayPath(fs, absolute, out);
  }

  @Override
  public Path resolve(Path other) {
    OverlayPath o = check(other);
    if (o.absolute) {
      return o;
    }
    List<String> all = new ArrayList<>(names);
    all.addAll(o.names);
    return new OverlayPath(fs, absolute, all);
  }

  @Override
  public Path resolve(String other) {
    return resolve(parse(fs, other));
  }

  @Override
  public Path relativize(Path other) {
    OverlayPath o = check(other);
    if (o.absolute != absolute) {
      throw new IllegalArgumentException("one path is absolute, the other not");
    }
    int common = 0;
    while (common < names.size()
        && common < o.names.size()
        && names.get(common).equals(o.names.get(common))) {
      common++;
    }
    List<String> out = new ArrayList<>();
    for (int i = common; i < names.size(); i++) {
      out.add("..");
    }
    out.addAll(o.names.subList(common, o.names.size()));
    return new OverlayPath(fs, false, out);
  }

  @Override
  public URI toUri() {
    throw new UnsupportedOperationException("overlay paths have no URI");
  }

  @Override
  public Path toAbsolutePath() {
    return absolute ? this : new OverlayPath(fs, true, names);
  }

  @Override
  public Path toRealPath(LinkOption... options) {
    return toAbsolutePath().normalize();
  }

  @Override
  public WatchKey register(WatchService w, WatchEvent.Kind<?>[] e, WatchEvent.Modifier... m) {
    throw new UnsupportedOperationException("overlay file systems cannot be watched");
  }

  @Override
  public int compareTo(Path other) {
    return toString().compareTo(check(other).toString());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OverlayPath p
        && p.fs == fs
        && p.absolute == absolute
        && p.names.equals(names);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(new Object[] {absolute, names});
  }

  @Override
  public String toString() {
    return (absolute ? "/" : "") + String.join("/", names);
  }
}
