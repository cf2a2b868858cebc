package dev.spindle.cli;

import dev.spindle.sandbox.SandboxBuilder;
import dev.spindle.sandbox.SandboxLimitException;
import dev.spindle.sandbox.python.EvalResult;
import dev.spindle.sandbox.python.PythonRuntime;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code spindle python}: CPython 3.13 (WASI) in a sandbox, run like {@code python3}. */
@Command(
    name = "python",
    mixinStandardHelpOptions = true,
    description =
        "Run Python code or a script in a sandbox (CPython 3.13 for WASI, standard library included).",
    footer = {
      "",
      "  spindle python -c 'print(sum(range(10)))'",
      "  spindle python script.py -- --verbose in.csv",
      "",
      "Arguments after FILE reach sys.argv; put -- before any that start with '-'.",
      "Output is printed when the code ends. Exit code: as python3 (an uncaught exception prints its",
      "traceback on stderr and is 1, sys.exit(N) is N); "
          + ExitCodes.TIMEOUT
          + " timeout, "
          + ExitCodes.MEMORY
          + " memory limit, "
          + ExitCodes.OUTPUT
          + " output limit."
    })
final class PythonCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "-c", paramLabel = "CODE", description = "The program, as a string (python3 -c).")
  String code;

  @Mixin LimitOptions limits;

  @Parameters(
      paramLabel = "FILE [ARGS]",
      description =
          "A script on the host and its arguments (without -c)," + " or the arguments of -c.")
  List<String> rest = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    List<String> argv = new ArrayList<>();
    String source;
    String filename;
    if (code != null) {
      source = code;
      filename = "<string>"; // what python3 -c names it in tracebacks
      argv.add("-c");
      argv.addAll(rest);
    } else if (!rest.isEmpty()) {
      Path file = Path.of(rest.getFirst());
      source = Files.readString(file, StandardCharsets.UTF_8);
      filename = rest.getFirst();
      argv.addAll(rest);
    } else {
      throw new IllegalArgumentException(
          "give -c CODE or a FILE (an interactive prompt is not supported)");
    }
    SandboxBuilder b = PythonRuntime.sandbox();
    limits.apply(b);
    try (PythonRuntime py = PythonRuntime.start(b.build())) {
      // sys.argv and __file__ as python3 sets them.
      StringBuilder prelude = new StringBuilder("import sys\nsys.argv = [");
      argv.forEach(a -> prelude.append(literal(a)).append(", "));
      prelude.append("]");
      if (code == null) {
        prelude.append("\n__file__ = ").append(literal(filename));
      }
      EvalResult setup = py.eval(prelude.toString(), "<spindle>");
      if (!setup.ok()) {
        throw new IllegalStateException("cannot set sys.argv: " + setup.error().message());
      }
      EvalResult r = py.eval(source, filename);
      print(System.out, r.stdout());
      print(System.err, r.stderr());
      if (r.ok()) {
        return 0;
      }
      return switch (r.error().type()) {
        case "SystemExit" -> Integer.parseInt(r.error().message());
        case "OutputLimitExceeded" -> {
          print(System.err, "spindle: " + r.error().message() + "\n");
          yield ExitCodes.OUTPUT;
        }
        default -> {
          print(System.err, r.error().traceback());
          yield 1;
        }
      };
    } catch (SandboxLimitException e) {
      System.err.println("spindle: " + e.getMessage());
      return ExitCodes.of(e.limit());
    }
  }

  /** A Python string literal of {@code s}: ASCII, every other code point escaped. */
  static String literal(String s) {
    StringBuilder b = new StringBuilder("'");
    s.codePoints()
        .forEach(
            c -> {
              if (c == '\\' || c == '\'') {
                b.append('\\').append((char) c);
              } else if (c >= 0x20 && c < 0x7f) {
                b.append((char) c);
              } else {
                b.append(String.format("\\U%08x", c));
              }
            });
    return b.append('\'').toString();
  }

  private static void print(PrintStream stream, String text) {
    stream.print(text);
    stream.flush();
  }
}
