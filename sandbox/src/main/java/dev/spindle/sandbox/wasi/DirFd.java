package dev.spindle.sandbox.wasi;

import java.util.List;

/**
 * An open directory: a preopen or one opened below it. It is (preopen, components), never a host
 * path or handle: every lookup from it starts again at the preopen's root and walks down through
 * {@link PreopenRoot}, so a directory renamed away and replaced by a link cannot carry the guest
 * anywhere new. It costs nothing to keep or to snapshot.
 */
final class DirFd extends FdEntry {
  private final int preopen;
  private final List<String> components;
  private final String preopenName;

  /**
   * @param components the directory below the preopen, links resolved; empty for the preopen
   * @param preopenName the guest name if this fd is a preopen itself, else null
   */
  DirFd(
      int preopen,
      List<String> components,
      String preopenName,
      long rightsBase,
      long rightsInheriting,
      int fdFlags) {
    super(rightsBase, rightsInheriting, fdFlags);
    this.preopen = preopen;
    this.components = List.copyOf(components);
    this.preopenName = preopenName;
  }

  int preopen() {
    return preopen;
  }

  List<String> components() {
    return components;
  }

  String path() {
    return String.join("/", components);
  }

  /** The guest name of this preopen, or null when the fd was opened by the guest. */
  String preopenName() {
    return preopenName;
  }

  @Override
  WasiState.Fd capture(int fd) {
    return new WasiState.Fd(
        fd,
        WasiState.Kind.DIRECTORY,
        preopen,
        path(),
        preopenName != null,
        rightsBase(),
        rightsInheriting(),
        fdFlags(),
        0);
  }

  @Override
  void close() {}

  @Override
  int fileType() {
    return Abi.FILETYPE_DIRECTORY;
  }
}
