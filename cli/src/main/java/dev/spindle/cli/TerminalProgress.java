package dev.spindle.cli;

import dev.spindle.image.Progress;
import java.io.PrintStream;

/**
 * A one-line progress bar on stderr, redrawn at most ten times a second. Only used when stderr is a
 * terminal; scripts and CI get no progress noise.
 */
final class TerminalProgress implements Progress {
  private static final long REDRAW_NANOS = 100_000_000L;
  private final PrintStream out;
  private String phase = "";
  private long total;
  private long done;
  private long lastDraw;

  private TerminalProgress(PrintStream out) {
    this.out = out;
  }

  /** A bar when a person is watching, nothing otherwise. */
  static Progress forTerminal(boolean quiet) {
    java.io.Console c = System.console();
    if (quiet || c == null || !c.isTerminal() || System.getenv("CI") != null) {
      return Progress.NONE;
    }
    return new TerminalProgress(System.err);
  }

  @Override
  public void begin(String phase, long total) {
    this.phase = phase;
    this.total = total;
    this.done = 0;
    draw(true);
  }

  @Override
  public void advance(long units) {
    done += units;
    draw(false);
  }

  @Override
  public void end() {
    draw(true);
    out.print('\n');
    out.flush();
  }

  private void draw(boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastDraw < REDRAW_NANOS) {
      return;
    }
    lastDraw = now;
    StringBuilder s = new StringBuilder("\r\033[K").append(phase).append(' ');
    if (total > 0) {
      int width = 30;
      int filled = (int) Math.min(width, width * done / total);
      s.append('[').append("#".repeat(filled)).append(" ".repeat(width - filled)).append("] ");
      s.append(100 * Math.min(done, total) / total).append('%');
    } else {
      s.append(done);
    }
    out.print(s);
    out.flush();
  }
}
