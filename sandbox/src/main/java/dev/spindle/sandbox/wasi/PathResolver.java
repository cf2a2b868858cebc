package dev.spindle.sandbox.wasi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Turns a guest path relative to a directory fd into a host path that cannot leave that
 * directory. Resolution is done here component by component, symlinks included, instead of by
 * the host: a {@code ..} that would climb above the directory, an absolute path and an absolute
 * symlink target are all {@code ENOTCAPABLE}, as in wasmtime's cap-std. Symlinks are followed at
 * most {@value #MAX_LINKS} times (then {@code ELOOP}), like Linux.
 */
final class PathResolver {
    static final int MAX_LINKS = 40;

    private PathResolver() {}

    /**
     * A resolved guest path.
     *
     * @param base the directory the lookup started from
     * @param components the path below {@code base}, with every symlink but maybe the last
     *     resolved; empty for {@code base} itself
     * @param host the host path
     * @param trailingSlash the guest wrote a trailing {@code /}: the target must be a directory
     */
    record Resolved(DirFd base, List<String> components, Path host, boolean trailingSlash) {

        /** The path below the preopen, as {@link WasiState.Fd#path()} stores it. */
        String preopenPath() {
            String below = String.join("/", components);
            if (base.path().isEmpty()) {
                return below;
            }
            return below.isEmpty() ? base.path() : base.path() + "/" + below;
        }

        /** Fails with {@code ENOTDIR} if a trailing slash names something that is not a directory. */
        void checkTrailingSlash() {
            if (trailingSlash && Files.exists(host) && !Files.isDirectory(host)) {
                throw new WasiError(Errno.NOTDIR);
            }
        }
    }

    static Resolved resolve(DirFd base, String path, boolean followFinal) throws IOException {
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
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pop();
            if (c.equals("..")) {
                if (done.isEmpty()) {
                    throw new WasiError(Errno.NOTCAPABLE);
                }
                Path parent = host(base, done);
                if (!Files.isDirectory(parent)) {
                    throw new WasiError(Files.exists(parent) ? Errno.NOTDIR : Errno.NOENT);
                }
                done.removeLast();
                continue;
            }
            done.add(c);
            boolean last = todo.isEmpty();
            if (last && !followFinal && !trailingSlash) {
                break;
            }
            Path h = host(base, done);
            if (Files.isSymbolicLink(h)) {
                if (++links > MAX_LINKS) {
                    throw new WasiError(Errno.LOOP);
                }
                String target = Files.readSymbolicLink(h).toString();
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
        }
        return new Resolved(base, List.copyOf(done), host(base, done), trailingSlash);
    }

    /** The host path of {@code components} below {@code dir}, one component at a time. */
    static Path host(DirFd dir, List<String> components) {
        Path p = dir.host();
        for (String c : components) {
            p = p.resolve(c);
        }
        return p;
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
