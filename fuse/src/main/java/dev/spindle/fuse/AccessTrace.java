package dev.spindle.fuse;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.image.ImageEntry;
import java.io.Closeable;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Records the first open of each file as one JSON line: {@code {"path", "id", "size", "pid",
 * "time", "ms"}} ({@code ms}: since the mount), with {@code "cold": true} for a file outside the
 * mount's hot set. The order of the lines is the order a debloated image should prefetch in. Each
 * line is flushed as it is written, so a trace survives a crash of the mount. First opens and cold
 * ones are counted whether or not a trace is written.
 */
final class AccessTrace implements Closeable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Writer out; // null: tracing off
  private final Set<String> hot; // null: no hot set
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final AtomicLong cold = new AtomicLong();
  private final long startNanos = System.nanoTime();

  private AccessTrace(Writer out, Set<String> hot) {
    this.out = out;
    this.hot = hot;
  }

  static AccessTrace of(MountOptions options) throws IOException {
    Writer w =
        options.trace() == null
            ? null
            : Files.newBufferedWriter(
                options.trace(),
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
    return new AccessTrace(w, options.hot());
  }

  /** Files opened at least once. */
  long firstOpens() {
    return seen.size();
  }

  /** Files outside the hot set opened at least once. */
  long coldOpens() {
    return cold.get();
  }

  /** Records {@code e} if this is its first open; {@code pid} is asked only then. */
  void opened(ImageEntry e, LongSupplier pid) throws IOException {
    if (!seen.add(e.path())) {
      return;
    }
    boolean isCold = hot != null && !hot.contains("/" + e.path());
    if (isCold) {
      cold.incrementAndGet();
    }
    if (out == null) {
      return;
    }
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("path", "/" + e.path());
    line.put("id", e.id().name());
    line.put("size", e.size());
    line.put("pid", pid.getAsLong());
    line.put("time", Instant.now().toString());
    line.put("ms", (System.nanoTime() - startNanos) / 1e6);
    if (isCold) {
      line.put("cold", true);
    }
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
