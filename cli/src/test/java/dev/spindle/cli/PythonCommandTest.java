package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spindle python} in-process: output, sys.argv and exit codes as python3 gives them. */
class PythonCommandTest {
  @TempDir Path tmp;

  private CliRunner.Result run(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "python";
    System.arraycopy(args, 0, all, 1, args.length);
    return new CliRunner(tmp.resolve("home")).run(all);
  }

  @Test
  void codeAndScriptsPrintAsPythonAndExceptionsExitOne() throws Exception {
    CliRunner.Result c = run("-c", "import sys\nprint(sum(range(10)), sys.argv)\n2 + 2");
    assertThat(c.code()).isZero();
    assertThat(c.out()).isEqualTo("45 ['-c']\n"); // a -c program prints no expression values

    Path script = tmp.resolve("greet.py");
    Files.writeString(
        script,
        """
        import sys
        def main(args):
            print('hello', *args, 'from', __name__, __file__.endswith('greet.py'))
            print('é ☃', file=sys.stderr)
            if '--fail' in args:
                {}['missing']
            sys.exit(len(args))
        main(sys.argv[1:])
        """);
    CliRunner.Result s = run(script.toString(), "--", "a", "-v");
    assertThat(s.out()).isEqualTo("hello a -v from __main__ True\n");
    assertThat(s.err()).isEqualTo("é ☃\n");
    assertThat(s.code()).isEqualTo(2);

    CliRunner.Result f = run(script.toString(), "--", "--fail");
    assertThat(f.code()).isEqualTo(1);
    assertThat(f.err())
        .contains(
            "Traceback (most recent call last):\n  File \"" + script + "\", line 8, in <module>\n")
        .contains("    {}['missing']")
        .endsWith("KeyError: 'missing'\n");
  }

  @Test
  void literalsEscapeWhatPythonWouldReadDifferently() {
    assertThat(PythonCommand.literal("a'b\\c\né😀"))
        .isEqualTo("'a\\'b\\\\c\\U0000000a\\U000000e9\\U0001f600'");
  }
}
