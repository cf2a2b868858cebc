package dev.spindle.fuse;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.image.ImageEntry;
import java.io.Closeable;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Records the first open of each file as one JSON line: {@code {"path", "id", "size", "pid",
 * "time", "ms"}} ({@code ms}: since the mount). The order of the lines is the order a debloated
 * image should prefetch in. Each line is flushed as it is written, so a trace survives a crash of
 * the mount.
 */
final class AccessTrace implements Closeable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Writer out; // null: tracing off
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final long startNanos = System.nanoTime();

  private AccessTrace(Writer out) {
    this.out = out;
  }

  static AccessTrace off() {
    return new AccessTrace(null);
  }

  static AccessTrace to(Path file) throws IOException {
    return new AccessTrace(Files.newBufferedWriter(file, StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
  }

  /** Records {@code e} if this is its first open; {@code pid} is asked only then. */
  void opened(ImageEntry e, LongSupplier pid) throws IOException {
    if (out == null || !seen.add(e.path())) {
      return;
    }
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("path", "/" + e.path());
    line.put("id", e.id().name());
    line.put("size", e.size());
    line.put("pid", pid.getAsLong());
    line.put("time", Instant.now().toString());
    line.put("ms", (System.nanoTime() - startNanos) / 1e6);
    String s = JSON.writeValueAsString(line);
    synchronized (out) {
      out.write(s);
      out.write('\n');
      out.flush();
    }
  }

  @Override
  public void close() throws IOException {
    if (out != null) {
      synchronized (out) {
        out.close();
      }
    }
  }
}
