package dev.spindle.fuse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reading a trace a mount wrote (see {@code AccessTrace}): the opened paths, first open first. */
public final class AccessTraces {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AccessTraces() {}

  /**
   * The paths of {@code file}, in order: each line a trace record ({@code {"path": …}}) or, for a
   * profile written by hand, a plain path. Blank lines and {@code #} comments are skipped.
   */
  public static List<String> paths(Path file) throws IOException {
    List<String> paths = new ArrayList<>();
    int n = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      n++;
      String s = line.strip();
      if (s.isEmpty() || s.startsWith("#")) {
        continue;
      }
      if (!s.startsWith("{")) {
        paths.add(s);
        continue;
      }
      JsonNode path = JSON.readTree(s).get("path");
      if (path == null || !path.isTextual()) {
        throw new IOException(file + ":" + n + ": a trace line without a \"path\" string");
      }
      paths.add(path.asText());
    }
    return paths;
  }
}
