package dev.spindle.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs the CLI in-process against a home and captures what it prints. */
final class CliRunner {
  record Result(int code, String out, String err) {}

  private final Path home;

  CliRunner(Path home) {
    this.home = home;
  }

  synchronized Result run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      // --home goes before "--": what follows it belongs to the guest.
      java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(args));
      int dashes = all.indexOf("--");
      all.addAll(dashes < 0 ? all.size() : dashes, java.util.List.of("--home", home.toString()));
      int code = Main.run(all.toArray(String[]::new));
      return new Result(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }
}
