package dev.spindle.sandbox.wasi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The guest's descriptor table: fd numbers to descriptors, lowest free number first; and the
 * preopens' {@link PreopenRoot}s, through which every descriptor reaches its files.
 */
final class FdTable {
  private final TreeMap<Integer, FdEntry> fds = new TreeMap<>();
  private final List<WasiState.Preopen> preopens;
  private final List<PreopenRoot> roots = new ArrayList<>();

  FdTable(List<WasiState.Preopen> preopens) throws IOException {
    this.preopens = List.copyOf(preopens);
    try {
      for (WasiState.Preopen p : this.preopens) {
        roots.add(PreopenRoot.of(p.hostPath()));
      }
    } catch (IOException | RuntimeException e) {
      roots.forEach(PreopenRoot::close);
      throw e;
    }
  }

  List<WasiState.Preopen> preopens() {
    return preopens;
  }

  PreopenRoot root(int preopen) {
    return roots.get(preopen);
  }

  PreopenRoot root(DirFd dir) {
    return roots.get(dir.preopen());
  }

  FdEntry get(int fd) {
    FdEntry d = fds.get(fd);
    if (d == null) {
      throw new WasiError(Errno.BADF);
    }
    return d;
  }

  FileFd file(int fd) {
    return switch (get(fd)) {
      case FileFd f -> f;
      case DirFd _ -> throw new WasiError(Errno.BADF);
      case StdioFd _ -> throw new WasiError(Errno.SPIPE);
    };
  }

  DirFd dir(int fd) {
    if (get(fd) instanceof DirFd d) {
      return d;
    }
    throw new WasiError(Errno.NOTDIR);
  }

  int add(FdEntry d) {
    int fd = 0;
    for (int used : fds.keySet()) {
      if (used != fd) {
        break;
      }
      fd++;
    }
    fds.put(fd, d);
    return fd;
  }

  void put(int fd, FdEntry d) {
    fds.put(fd, d);
  }

  FdEntry remove(int fd) {
    FdEntry d = get(fd);
    fds.remove(fd);
    return d;
  }

  void closeAll() {
    fds.values().forEach(FdEntry::close);
    fds.clear();
    roots.forEach(PreopenRoot::close);
  }

  List<WasiState.Fd> capture() {
    List<WasiState.Fd> out = new ArrayList<>();
    for (Map.Entry<Integer, FdEntry> e : fds.entrySet()) {
      out.add(e.getValue().capture(e.getKey()));
    }
    return out;
  }

  /** Captured descriptors and the preopens they name. */
  record Captured(List<WasiState.Preopen> preopens, List<WasiState.Fd> fds) {}

  /**
   * The descriptors, and only the preopens some open descriptor still names (renumbered in order):
   * once the guest has closed a preopen and everything below it, no state taken after names its
   * host path. So a guest can shed a directory before a snapshot (CPython's warm interpreter drops
   * the shared directory its guest module came from), and a state without host paths can be forked
   * to another node.
   */
  Captured captureInUse() {
    List<WasiState.Fd> all = capture();
    int[] renumbered = new int[preopens.size()];
    java.util.Arrays.fill(renumbered, -1);
    for (WasiState.Fd f : all) {
      if (f.preopen() >= 0 && f.preopen() < renumbered.length) {
        renumbered[f.preopen()] = 0;
      }
    }
    List<WasiState.Preopen> kept = new ArrayList<>();
    for (int i = 0; i < renumbered.length; i++) {
      if (renumbered[i] == 0) {
        renumbered[i] = kept.size();
        kept.add(preopens.get(i));
      }
    }
    List<WasiState.Fd> fdsOut = new ArrayList<>(all.size());
    for (WasiState.Fd f : all) {
      fdsOut.add(
          f.preopen() < 0 || f.preopen() >= renumbered.length
              ? f
              : new WasiState.Fd(
                  f.fd(),
                  f.kind(),
                  renumbered[f.preopen()],
                  f.path(),
                  f.preopened(),
                  f.rightsBase(),
                  f.rightsInheriting(),
                  f.fdFlags(),
                  f.offset()));
    }
    return new Captured(kept, fdsOut);
  }

  /**
   * The descriptors of {@code state}, reopened through their preopens' roots exactly as the guest's
   * own calls are (never by host path: a file swapped for a link before the snapshot fails the
   * restore instead of leading out); stdio bound to the given streams.
   */
  static FdTable restore(WasiState state, InputStream in, OutputStream out, OutputStream err)
      throws IOException {
    FdTable table = new FdTable(state.preopens());
    try {
      for (WasiState.Fd f : state.fds()) {
        FdEntry d =
            switch (f.kind()) {
              case STDIN -> new StdioFd(f.kind(), in, null, f.rightsBase(), f.fdFlags());
              case STDOUT -> new StdioFd(f.kind(), null, out, f.rightsBase(), f.fdFlags());
              case STDERR -> new StdioFd(f.kind(), null, err, f.rightsBase(), f.fdFlags());
              case DIRECTORY -> table.reopenDirectory(state, f);
              case FILE -> table.reopenFile(f);
            };
        table.put(f.fd(), d);
      }
    } catch (IOException | RuntimeException e) {
      table.closeAll();
      throw e;
    }
    return table;
  }

  private DirFd reopenDirectory(WasiState state, WasiState.Fd f) throws IOException {
    List<String> components = components(f);
    try (PreopenRoot.Access a = root(f.preopen()).exact(components)) {
      if (!Files.isDirectory(a.path())) {
        throw new IOException("fd " + f.fd() + ": '" + f.path() + "' is no longer a directory");
      }
    } catch (WasiError e) {
      throw new IOException(
          "fd "
              + f.fd()
              + ": cannot reopen directory '"
              + f.path()
              + "' (WASI errno "
              + e.errno()
              + ")",
          e);
    }
    return new DirFd(
        f.preopen(),
        components,
        f.preopened() ? state.preopens().get(f.preopen()).guestPath() : null,
        f.rightsBase(),
        f.rightsInheriting(),
        f.fdFlags());
  }

  private FileFd reopenFile(WasiState.Fd f) throws IOException {
    boolean readable = (f.rightsBase() & Abi.RIGHT_FD_READ) != 0;
    boolean writable = (f.rightsBase() & Abi.RIGHT_FD_WRITE) != 0;
    try {
      return openFile(
          f.preopen(),
          components(f),
          false,
          readable,
          writable,
          writable,
          Set.of(),
          f.rightsBase(),
          f.rightsInheriting(),
          f.fdFlags(),
          f.offset());
    } catch (WasiError e) {
      throw new IOException(
          "fd " + f.fd() + ": cannot reopen file '" + f.path() + "' (WASI errno " + e.errno() + ")",
          e);
    }
  }

  /** A captured path as components, refusing any that could climb (a state is input too). */
  private List<String> components(WasiState.Fd f) throws IOException {
    if (f.preopen() < 0 || f.preopen() >= roots.size()) {
      throw new IOException("fd " + f.fd() + ": no preopen " + f.preopen());
    }
    List<String> components = GuestPathResolver.split(f.path());
    if (components.contains("..") || f.path().indexOf('\0') >= 0 || f.path().startsWith("/")) {
      throw new IOException("fd " + f.fd() + ": path '" + f.path() + "' leaves its preopen");
    }
    return components;
  }

  /**
   * Opens the regular file {@code components} names below a preopen: created new, or existing and
   * reached with no link anywhere on the way. A descriptor with neither read nor write rights
   * (opened only to stat it) still gets a read channel, which every file system, read-only ones
   * too, can give.
   *
   * @param writable whether the guest may write (its rights)
   * @param openForWrite whether the channel is opened for writing (also for O_TRUNC)
   */
  FileFd openFile(
      int preopen,
      List<String> components,
      boolean create,
      boolean readable,
      boolean writable,
      boolean openForWrite,
      Set<? extends OpenOption> extra,
      long rightsBase,
      long rightsInheriting,
      int fdFlags,
      long offset)
      throws IOException {
    PreopenRoot root = roots.get(preopen);
    Set<OpenOption> options = new HashSet<>(extra);
    if (readable || !openForWrite) {
      options.add(StandardOpenOption.READ);
    }
    if (openForWrite) {
      options.add(StandardOpenOption.WRITE);
    }
    SeekableByteChannel ch;
    PreopenRoot.Access self;
    if (create) {
      try (PreopenRoot.Access a = root.at(components)) {
        ch = createNew(a.path(), options);
      }
      try {
        self = root.exact(components);
      } catch (RuntimeException e) {
        ch.close();
        throw e;
      }
    } else {
      self = root.exact(components);
      try {
        if (Files.isDirectory(self.path())) {
          throw new WasiError(Errno.ISDIR);
        }
        ch = Files.newByteChannel(self.path(), options);
      } catch (IOException | RuntimeException e) {
        self.close();
        throw e;
      }
    }
    return new FileFd(
        preopen,
        String.join("/", components),
        self,
        ch,
        readable,
        writable,
        rightsBase,
        rightsInheriting,
        fdFlags,
        offset);
  }

  /**
   * Creates a file, never through a link at its name: O_NOFOLLOW where the provider has links;
   * providers without links (the JDK's zipfs) reject the option and need no guard. Java ignores
   * CREATE on a read-only open, so a created file is opened for writing too; the fd's own rights
   * still decide whether the guest may write.
   */
  private static SeekableByteChannel createNew(Path path, Set<OpenOption> options)
      throws IOException {
    Set<OpenOption> create = new HashSet<>(options);
    create.add(StandardOpenOption.CREATE_NEW);
    create.add(StandardOpenOption.WRITE);
    Set<OpenOption> noFollow = new HashSet<>(create);
    noFollow.add(LinkOption.NOFOLLOW_LINKS);
    try {
      return Files.newByteChannel(path, noFollow);
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      if (e instanceof ReadOnlyFileSystemException) {
        throw e;
      }
      return Files.newByteChannel(path, create);
    }
  }
}
