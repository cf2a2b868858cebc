package dev.spindle.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/** The output of a node the benchmarks start as its own process ({@code DaemonMain}). */
final class NodeOutput {
  private NodeOutput() {}

  /**
   * The URL the node prints once it listens; its output is drained from then on, so it never blocks
   * on a full pipe.
   */
  static String readUrl(Process p) throws IOException {
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = r.readLine()) != null) {
      int at = line.indexOf("listening on ");
      if (at >= 0) {
        Thread drain =
            new Thread(
                () -> {
                  try {
                    r.transferTo(java.io.Writer.nullWriter());
                  } catch (IOException e) {
                    // the daemon ended
                  }
                });
        drain.setDaemon(true);
        drain.start();
        return line.substring(at + "listening on ".length()).split(" ")[0];
      }
    }
    throw new IOException("the daemon ended before listening");
  }
}
