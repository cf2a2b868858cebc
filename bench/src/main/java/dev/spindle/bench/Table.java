package dev.spindle.bench;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table: benchmarks print Spindle beside its baseline, with the ratio. */
final class Table {
  private final List<String[]> rows = new ArrayList<>();
  private final String[] header;

  Table(String... header) {
    this.header = header;
  }

  void row(Object... cells) {
    String[] r = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      r[i] = String.valueOf(cells[i]);
    }
    rows.add(r);
  }

  String render() {
    int[] w = new int[header.length];
    for (int i = 0; i < header.length; i++) {
      w[i] = header[i].length();
      for (String[] r : rows) {
        w[i] = Math.max(w[i], i < r.length ? r[i].length() : 0);
      }
    }
    StringBuilder s = new StringBuilder();
    line(s, header, w);
    StringBuilder sep = new StringBuilder();
    for (int x : w) {
      sep.append("|").append("-".repeat(x + 2));
    }
    s.append(sep).append("|\n");
    for (String[] r : rows) {
      line(s, r, w);
    }
    return s.toString();
  }

  private static void line(StringBuilder s, String[] cells, int[] w) {
    for (int i = 0; i < w.length; i++) {
      String c = i < cells.length ? cells[i] : "";
      s.append("| ").append(c).append(" ".repeat(w[i] - c.length() + 1));
    }
    s.append("|\n");
  }

  static String ratio(double spindle, double baseline) {
    return baseline <= 0 ? "n/a" : String.format("%.2fx", spindle / baseline);
  }

  static String mb(long bytes) {
    return String.format("%.1f MB", bytes / 1e6);
  }
}
