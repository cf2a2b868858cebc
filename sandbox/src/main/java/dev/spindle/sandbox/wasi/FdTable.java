package dev.spindle.sandbox.wasi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The guest's descriptor table: fd numbers to descriptors, lowest free number first. */
final class FdTable {
    private final TreeMap<Integer, Descriptor> fds = new TreeMap<>();
    private final List<WasiState.Preopen> preopens;

    FdTable(List<WasiState.Preopen> preopens) {
        this.preopens = List.copyOf(preopens);
    }

    List<WasiState.Preopen> preopens() {
        return preopens;
    }

    Descriptor get(int fd) {
        Descriptor d = fds.get(fd);
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

    int add(Descriptor d) {
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

    void put(int fd, Descriptor d) {
        fds.put(fd, d);
    }

    Descriptor remove(int fd) {
        Descriptor d = get(fd);
        fds.remove(fd);
        return d;
    }

    void closeAll() {
        fds.values().forEach(Descriptor::close);
        fds.clear();
    }

    List<WasiState.Fd> capture() {
        List<WasiState.Fd> out = new ArrayList<>();
        for (Map.Entry<Integer, Descriptor> e : fds.entrySet()) {
            out.add(e.getValue().capture(e.getKey()));
        }
        return out;
    }

    /** The descriptors of {@code state}, reopened on the host; stdio bound to the given streams. */
    static FdTable restore(WasiState state, InputStream in, OutputStream out, OutputStream err)
            throws IOException {
        FdTable table = new FdTable(state.preopens());
        for (WasiState.Fd f : state.fds()) {
            Descriptor d = switch (f.kind()) {
                case STDIN -> new StdioFd(f.kind(), in, null, f.rightsBase(), f.fdFlags());
                case STDOUT -> new StdioFd(f.kind(), null, out, f.rightsBase(), f.fdFlags());
                case STDERR -> new StdioFd(f.kind(), null, err, f.rightsBase(), f.fdFlags());
                case DIRECTORY -> new DirFd(f.preopen(), f.path(), table.hostPath(f.preopen(), f.path()),
                        f.preopened() ? state.preopens().get(f.preopen()).guestPath() : null,
                        f.rightsBase(), f.rightsInheriting(), f.fdFlags());
                case FILE -> table.reopen(f);
            };
            table.put(f.fd(), d);
        }
        return table;
    }

    private FileFd reopen(WasiState.Fd f) throws IOException {
        Path host = hostPath(f.preopen(), f.path());
        boolean readable = (f.rightsBase() & Abi.RIGHT_FD_READ) != 0;
        boolean writable = (f.rightsBase() & Abi.RIGHT_FD_WRITE) != 0;
        SeekableByteChannel ch = open(host, readable, writable, Set.of());
        return new FileFd(f.preopen(), f.path(), host, ch, readable, writable, f.rightsBase(),
                f.rightsInheriting(), f.fdFlags(), f.offset());
    }

    Path hostPath(int preopen, String path) {
        Path p = preopens.get(preopen).hostPath();
        for (String c : PathResolver.split(path)) {
            p = p.resolve(c);
        }
        return p;
    }

    /**
     * Opens a host file. A descriptor with neither read nor write rights (opened only to stat it)
     * still gets a read channel, which every file system, read-only ones too, can give.
     */
    static SeekableByteChannel open(Path host, boolean readable, boolean writable,
            Set<? extends OpenOption> extra) throws IOException {
        Set<OpenOption> options = new HashSet<>(extra);
        if (readable || !writable) {
            options.add(StandardOpenOption.READ);
        }
        if (writable) {
            options.add(StandardOpenOption.WRITE);
        }
        if (options.contains(LinkOption.NOFOLLOW_LINKS) && Files.isSymbolicLink(host)) {
            throw new WasiError(Errno.LOOP);
        }
        return Files.newByteChannel(host, options);
    }
}
