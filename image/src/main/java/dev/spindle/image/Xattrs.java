package dev.spindle.image;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Extended attributes of a path, not following a symlink, through {@code llistxattr}, {@code
 * lgetxattr} and {@code lsetxattr} (FFM): the JDK's {@code UserDefinedFileAttributeView} reaches
 * only the {@code user.} namespace, and a root file system keeps file capabilities in {@code
 * security.capability}.
 */
@SuppressWarnings("restricted") // FFM into libc; the JVM runs with --enable-native-access
public final class Xattrs {
  private static final int ENODATA = 61;
  private static final int ENOTSUP = 95;
  private static final int ERANGE = 34;
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle LIST;
  private static final MethodHandle GET;
  private static final MethodHandle SET;

  static {
    Linker linker = Linker.nativeLinker();
    Linker.Option errno = Linker.Option.captureCallState("errno");
    LIST =
        linker.downcallHandle(
            linker.defaultLookup().find("llistxattr").orElseThrow(),
            FunctionDescriptor.of(
                ValueLayout.JAVA_LONG,
                ValueLayout.ADDRESS,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG),
            errno);
    GET =
        linker.downcallHandle(
            linker.defaultLookup().find("lgetxattr").orElseThrow(),
            FunctionDescriptor.of(
                ValueLayout.JAVA_LONG,
                ValueLayout.ADDRESS,
                ValueLayout.ADDRESS,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG),
            errno);
    SET =
        linker.downcallHandle(
            linker.defaultLookup().find("lsetxattr").orElseThrow(),
            FunctionDescriptor.of(
                ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS,
                ValueLayout.ADDRESS,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_INT),
            errno);
  }

  private Xattrs() {}

  /** Every attribute of {@code p} this process may read, sorted by name. */
  public static List<EntryMetadata.Xattr> read(Path p) throws IOException {
    List<EntryMetadata.Xattr> out = new ArrayList<>();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment path = a.allocateFrom(p.toString());
      MemorySegment state = a.allocate(CAPTURE);
      byte[] names = null;
      for (int size = 1024; names == null; size *= 4) {
        MemorySegment buf = a.allocate(size);
        long n = (long) LIST.invokeExact(state, path, buf, (long) size);
        if (n >= 0) {
          names = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        } else {
          int err = (int) ERRNO.get(state, 0L);
          if (err == ENOTSUP) {
            return out;
          }
          if (err != ERANGE || size > (1 << 20)) {
            throw new IOException(p + ": cannot list extended attributes (errno " + err + ")");
          }
        }
      }
      int start = 0;
      for (int i = 0; i < names.length; i++) {
        if (names[i] == 0) {
          String name = new String(names, start, i - start, StandardCharsets.UTF_8);
          start = i + 1;
          byte[] v = get(a, state, path, name, p);
          if (v != null) {
            out.add(new EntryMetadata.Xattr(name, v));
          }
        }
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException(p + ": reading extended attributes: " + t, t);
    }
    out.sort(
        (x, y) ->
            java.util.Arrays.compareUnsigned(
                x.name().getBytes(StandardCharsets.UTF_8),
                y.name().getBytes(StandardCharsets.UTF_8)));
    return out;
  }

  private static byte[] get(Arena a, MemorySegment state, MemorySegment path, String name, Path p)
      throws Throwable {
    MemorySegment n = a.allocateFrom(name);
    MemorySegment buf = a.allocate(MetadataTable.MAX_XATTR_VALUE);
    long len = (long) GET.invokeExact(state, path, n, buf, (long) MetadataTable.MAX_XATTR_VALUE);
    if (len < 0) {
      int err = (int) ERRNO.get(state, 0L);
      if (err == ENODATA) {
        return null; // removed since listed
      }
      throw new IOException(
          p + ": cannot read extended attribute " + name + " (errno " + err + ")");
    }
    return buf.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
  }

  /** Sets one attribute on {@code p} (a symlink itself, not what it names); returns errno or 0. */
  static int set(Path p, EntryMetadata.Xattr x) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment state = a.allocate(CAPTURE);
      MemorySegment v = a.allocate(Math.max(1, x.value().length));
      MemorySegment.copy(x.value(), 0, v, ValueLayout.JAVA_BYTE, 0, x.value().length);
      int r =
          (int)
              SET.invokeExact(
                  state,
                  a.allocateFrom(p.toString()),
                  a.allocateFrom(x.name()),
                  v,
                  (long) x.value().length,
                  0);
      return r == 0 ? 0 : (int) ERRNO.get(state, 0L);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException(p + ": setting " + x.name() + ": " + t, t);
    }
  }
}
