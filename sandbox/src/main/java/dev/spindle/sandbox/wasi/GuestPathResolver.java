package dev.spindle.sandbox.wasi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Turns a guest path relative to a directory fd into components below the fd's preopen that cannot
 * leave that directory. Resolution is done here component by component, symlinks included, instead
 * of by the host: a {@code ..} that would climb above the directory fd, an absolute path and an
 * absolute symlink target are all {@code ENOTCAPABLE}, as in wasmtime's cap-std. Symlinks are
 * followed at most {@value #MAX_LINKS} times (then {@code ELOOP}), like Linux. Every look at the
 * host goes through the preopen's {@link PreopenRoot}, so a link is only ever read, never followed
 * by the host.
 */
final class GuestPathResolver {
  static final int MAX_LINKS = 40;
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  private GuestPathResolver() {}

  /**
   * A resolved guest path.
   *
   * @param base the directory fd the lookup started from
   * @param root the root of that fd's preopen
   * @param components the path below the preopen, with every symlink but maybe the last resolved;
   *     empty for the preopen itself
   * @param trailingSlash the guest wrote a trailing {@code /}: the target must be a directory
   */
  record Resolved(DirFd base, PreopenRoot root, List<String> components, boolean trailingSlash) {

    /** The path below the preopen, as {@link WasiState.Fd#path()} stores it. */
    String preopenPath() {
      return String.join("/", components);
    }

    /** Whether this names the directory fd the lookup started from. */
    boolean isBase() {
      return components.equals(base.components());
    }

    /** The object's path inside its parent, not followed if it is a link. */
    PreopenRoot.Access at() throws IOException {
      return root.at(components);
    }

    /** Fails with {@code ENOTDIR} if a trailing slash names something that is not a directory. */
    void checkTrailingSlash() throws IOException {
      if (!trailingSlash) {
        return;
      }
      try (PreopenRoot.Access a = at()) {
        if (Files.exists(a.path(), NOFOLLOW) && !Files.isDirectory(a.path(), NOFOLLOW)) {
          throw new WasiError(Errno.NOTDIR);
        }
      }
    }
  }

  static Resolved resolve(PreopenRoot root, DirFd base, String path, boolean followFinal)
      throws IOException {
    if (path.isEmpty()) {
      throw new WasiError(Errno.NOENT);
    }
    if (path.indexOf('\0') >= 0) {
      throw new WasiError(Errno.INVAL);
    }
    if (path.startsWith("/")) {
      throw new WasiError(Errno.NOTCAPABLE);
    }
    boolean trailingSlash = path.endsWith("/");
    Deque<String> todo = new ArrayDeque<>(split(path));
    List<String> done = new ArrayList<>(base.components());
    int floor = done.size(); // a directory fd is a root of its own: '..' stops here
    int links = 0;
    while (!todo.isEmpty()) {
      String c = todo.pop();
      if (c.equals("..")) {
        if (done.size() == floor) {
          throw new WasiError(Errno.NOTCAPABLE);
        }
        try (PreopenRoot.Access a = root.at(done)) {
          if (!Files.isDirectory(a.path(), NOFOLLOW)) {
            throw new WasiError(Files.exists(a.path(), NOFOLLOW) ? Errno.NOTDIR : Errno.NOENT);
          }
        }
        done.removeLast();
        continue;
      }
      done.add(c);
      boolean last = todo.isEmpty();
      if (last && !followFinal && !trailingSlash) {
        break;
      }
      String target;
      try (PreopenRoot.Access a = root.at(done)) {
        if (!Files.isSymbolicLink(a.path())) {
          continue;
        }
        target = Files.readSymbolicLink(a.path()).toString();
      }
      if (++links > MAX_LINKS) {
        throw new WasiError(Errno.LOOP);
      }
      if (target.startsWith("/")) {
        throw new WasiError(Errno.NOTCAPABLE);
      }
      if (target.endsWith("/") && last) {
        trailingSlash = true;
      }
      done.removeLast();
      List<String> parts = split(target);
      for (int i = parts.size() - 1; i >= 0; i--) {
        todo.push(parts.get(i));
      }
    }
    return new Resolved(base, root, List.copyOf(done), trailingSlash);
  }

  /** Splits a guest path into its components, dropping empty ones and {@code .}. */
  static List<String> split(String path) {
    List<String> out = new ArrayList<>();
    for (String c : path.split("/")) {
      if (!c.isEmpty() && !c.equals(".")) {
        out.add(c);
      }
    }
    return out;
  }
}
