package dev.spindle.sandbox.wasi;

/**
 * An entry of the descriptor table. Rights and flags are mutable because the guest may narrow them
 * ({@code fd_fdstat_set_rights}, {@code fd_fdstat_set_flags}).
 */
abstract sealed class FdEntry permits StdioFd, FileFd, DirFd {
  private long rightsBase;
  private long rightsInheriting;
  private int fdFlags;

  FdEntry(long rightsBase, long rightsInheriting, int fdFlags) {
    this.rightsBase = rightsBase;
    this.rightsInheriting = rightsInheriting;
    this.fdFlags = fdFlags;
  }

  /** Captures this entry as the plain value a {@link WasiState} holds. */
  abstract WasiState.Fd capture(int fd);

  /** Releases host resources; the descriptor is no longer usable. */
  abstract void close();

  /** The {@code filetype} that {@code fd_fdstat_get} reports. */
  abstract int fileType();

  final long rightsBase() {
    return rightsBase;
  }

  final long rightsInheriting() {
    return rightsInheriting;
  }

  /** Rights may only shrink: asking for one not held is {@code ENOTCAPABLE}. */
  final void narrowRights(long base, long inheriting) {
    if ((base & ~rightsBase) != 0 || (inheriting & ~rightsInheriting) != 0) {
      throw new WasiError(Errno.NOTCAPABLE);
    }
    rightsBase = base;
    rightsInheriting = inheriting;
  }

  final int fdFlags() {
    return fdFlags;
  }

  final void setFdFlags(int flags) {
    fdFlags = flags;
  }

  /** Fails with {@code ENOTCAPABLE} unless this descriptor holds all of {@code rights}. */
  final void require(long rights) {
    if ((rightsBase & rights) != rights) {
      throw new WasiError(Errno.NOTCAPABLE);
    }
  }
}
