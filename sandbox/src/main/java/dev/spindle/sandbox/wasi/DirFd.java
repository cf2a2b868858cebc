package dev.spindle.sandbox.wasi;

import java.nio.file.Path;

/**
 * An open directory: a preopen or one opened below it. It holds no host handle, only the path,
 * so it costs nothing to keep or to snapshot; every lookup starts from {@link #host()}.
 */
final class DirFd extends Descriptor {
    private final int preopen;
    private final String path;
    private final Path host;
    private final String preopenName;

    /**
     * @param preopenName the guest name if this fd is a preopen itself, else null
     */
    DirFd(int preopen, String path, Path host, String preopenName, long rightsBase, long rightsInheriting, int fdFlags) {
        super(rightsBase, rightsInheriting, fdFlags);
        this.preopen = preopen;
        this.path = path;
        this.host = host;
        this.preopenName = preopenName;
    }

    int preopen() {
        return preopen;
    }

    String path() {
        return path;
    }

    Path host() {
        return host;
    }

    /** The guest name of this preopen, or null when the fd was opened by the guest. */
    String preopenName() {
        return preopenName;
    }

    @Override
    WasiState.Fd capture(int fd) {
        return new WasiState.Fd(
                fd, WasiState.Kind.DIRECTORY, preopen, path, preopenName != null, rightsBase(),
                rightsInheriting(), fdFlags(), 0);
    }

    @Override
    void close() {}

    @Override
    int fileType() {
        return Abi.FILETYPE_DIRECTORY;
    }
}
