package dev.spindle.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/** Entry point of the {@code spindle} command. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
      // Answered before picocli builds its model of the whole command tree (most of a start's
      // ~0.5 s of CPU): the same lines 'spindle --version' prints through picocli.
      for (String line : new VersionProvider().getVersion()) {
        System.out.println(line);
      }
      return;
    }
    System.exit(run(args));
  }

  /** Runs a command line and returns the exit code (tests call this in-process). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new SpindleCommand());
    // Enum options (--engine, --memory-model, --mode ...) take their values in any case.
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(Main::reportError);
    return cl.execute(args);
  }

  /**
   * Errors a user can act on are one line naming what was wrong; the stack trace is only shown with
   * SPINDLE_DEBUG=1.
   */
  private static int reportError(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
    PrintWriter err = cl.getErr();
    String msg = e.getMessage() == null ? e.toString() : e.getMessage();
    if (e instanceof java.nio.file.NoSuchFileException nsf && nsf.getReason() == null) {
      msg = "no such file: " + msg;
    }
    err.println("spindle: error: " + msg);
    if (System.getenv("SPINDLE_DEBUG") != null) {
      e.printStackTrace(err);
    }
    err.flush();
    return 1;
  }
}
