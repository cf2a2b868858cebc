package dev.spindle.sandbox.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.Import;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.SandboxException;
import dev.spindle.sandbox.SandboxLimitException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CPython in a sandbox against Debian's {@code python3} as the oracle: the same snippet prints the
 * same stdout. One runtime serves the tests that keep it alive (setting up CPython costs about a
 * second); the limit tests start their own.
 */
class PythonRuntimeTest {
  private static final Path NATIVE = Path.of("/usr/bin/python3");

  @TempDir static Path guestRoot;

  private static PythonRuntime py;

  @BeforeAll
  static void boot() {
    long t0 = System.nanoTime();
    Sandbox sandbox = PythonRuntime.sandbox(guestRoot).timeout(Duration.ofSeconds(60)).build();
    py = PythonRuntime.start(sandbox);
    System.out.printf(
        "python boot (parse + instantiate + setup): %.0f ms%n", (System.nanoTime() - t0) / 1e6);
  }

  @AfterAll
  static void close() {
    if (py != null) {
      py.close();
    }
  }

  /** What Debian's python3 prints for {@code code}, run as {@code python3 -c}. */
  private static String oracle(String code) throws IOException, InterruptedException {
    assumeTrue(Files.isExecutable(NATIVE), "no /usr/bin/python3 to compare with");
    Process p =
        new ProcessBuilder(NATIVE.toString(), "-c", code).redirectErrorStream(false).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  private static void sameAsNative(String code) throws IOException, InterruptedException {
    EvalResult r = py.eval(code);
    assertThat(r.error()).as("error of %s", code).isNull();
    assertThat(r.stdout()).as(code).isEqualTo(oracle(code)).isNotEmpty();
  }

  @Test
  void importsAreWasiAndTheHostErrorCallbackOnly() {
    List<String> imports = new ArrayList<>();
    var module = PythonRuntime.sandbox(guestRoot).build();
    // The module named by the bytes is the one the generated machine was compiled from.
    var parsed =
        com.dylibso.chicory.wasm.Parser.builder()
            .withValidation(false)
            .build()
            .parse(() -> new java.io.ByteArrayInputStream(module.wasm()));
    for (int i = 0; i < parsed.importSection().importCount(); i++) {
      Import imp = parsed.importSection().getImport(i);
      if (!imp.module().equals("wasi_snapshot_preview1")) {
        imports.add(imp.module() + "." + imp.name() + ":" + imp.importType());
      }
    }
    assertThat(imports).containsExactly("trino.return_error:" + ExternalType.FUNCTION);
    List<String> exports = new ArrayList<>();
    for (int i = 0; i < parsed.exportSection().exportCount(); i++) {
      exports.add(parsed.exportSection().getExport(i).name());
    }
    assertThat(exports).contains("allocate", "deallocate", "setup", "execute");
  }

  @Test
  void aSandboxBuiltFromTheBytesAloneRunsTheGeneratedMachine() throws Exception {
    byte[] bytes = PythonRuntime.moduleBytes();
    assertThat(
            java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes)))
        .isEqualTo(PythonModule.SHA256);
    // As the fork module builds one from a stored module: found by hash, not compiled (the
    // bytes' function bodies are empty), with the host's error callback linked.
    try (var reactor =
        Sandbox.builder(bytes).timeout(Duration.ofSeconds(60)).build().startReactor()) {
      assertThat(reactor.call("allocate", 16)[0]).isNotZero();
    }
  }

  @Test
  void arithmeticJsonRegexAndFormattingPrintWhatNativePythonPrints() throws Exception {
    sameAsNative(
        "print(2 ** 100, 7 // 2, -7 % 3, 1 / 3, round(2.675, 2), divmod(17, 5))\n"
            + "import math\nprint(math.factorial(30), math.isqrt(10**20 + 1), math.pi)");
    sameAsNative(
        "import json\nd = {'a': [1, 2.5, None, True], 'b': {'c': 'é\\u2603'}, 'n': -0.0}\n"
            + "s = json.dumps(d, sort_keys=True)\nprint(s)\nprint(json.loads(s) == d, json.dumps(d, indent=2))");
    sameAsNative(
        "import re\nprint(re.findall(r'(\\w+)@(\\w+)\\.com', 'a@b.com, cc@dd.com x@y.org'))\n"
            + "print(re.sub(r'(?P<n>\\d+)', lambda m: str(int(m['n']) * 2), 'a1 b22 c333'))\n"
            + "print(re.split(r'[,;]\\s*', 'x, y;z'), bool(re.fullmatch(r'[a-f0-9]{8}', 'deadbeef')))");
    sameAsNative(
        "name, n, x = 'spindle', 42, 3.14159\n"
            + "print(f'{name!r:>12}|{n:08b}|{x:.2f}|{n:,}|{x:e}|{n:#x}')\n"
            + "print('%5s|%-5d|%.3f' % ('ab', 7, 2/3), '{0}{1}{0}'.format('a', 'b'), 'x'.center(9, '*'))");
  }

  @Test
  void classesAndGeneratorsBehaveAsNatively() throws Exception {
    sameAsNative(
        """
                from dataclasses import dataclass, field
                import functools
                @dataclass(order=True)
                class Point:
                    x: int
                    y: int = 0
                    tags: list = field(default_factory=list, compare=False)
                    def norm2(self):
                        return self.x ** 2 + self.y ** 2
                class Stack(list):
                    def push(self, v):
                        self.append(v); return self
                pts = sorted([Point(3, 4), Point(1, 2), Point(1, -1)])
                print(pts, [p.norm2() for p in pts])
                print(Stack().push(1).push(2), functools.reduce(lambda a, b: a * b, range(1, 10)))
                print(list(zip(*[iter(range(7))] * 3)), {k: v for k, v in enumerate('abc')}, sorted({3, 1, 2}))
                """);
  }

  @Test
  void anExceptionIsAResultWithItsTypeMessageAndTraceback() throws Exception {
    EvalResult r = py.eval("def f(d):\n    return d['missing']\nprint('before')\nf({})", "cell.py");
    assertThat(r.stdout()).isEqualTo("before\n");
    assertThat(r.error().type()).isEqualTo("KeyError");
    assertThat(r.error().message()).isEqualTo("'missing'");
    assertThat(r.error().traceback())
        .startsWith("Traceback (most recent call last):\n  File \"cell.py\", line 4, in <module>\n")
        .contains("  File \"cell.py\", line 2, in f\n    return d['missing']")
        .endsWith("KeyError: 'missing'\n")
        .doesNotContain("guest.py");
    // The last line of the traceback is what native Python prints for the same code.
    Process p =
        new ProcessBuilder(NATIVE.toString(), "-c", "def f(d):\n    return d['missing']\nf({})")
            .start();
    String nativeErr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isEqualTo(1);
    assertThat(nativeErr.strip().lines().toList().getLast()).isEqualTo("KeyError: 'missing'");

    EvalResult syntax = py.eval("x = (1,");
    assertThat(syntax.error().type()).isEqualTo("SyntaxError");
    assertThat(syntax.error().traceback()).contains("SyntaxError");
    EvalResult custom = py.eval("import json\njson.loads('{')");
    assertThat(custom.error().type()).isEqualTo("json.decoder.JSONDecodeError");
    assertThat(py.eval("import sys\nsys.exit(3)").error())
        .isEqualTo(new EvalResult.Error("SystemExit", "3", ""));
    assertThat(py.eval("1 + 1").value()).isEqualTo("2"); // still alive
  }

  @Test
  void stateSurvivesBetweenEvalsAndTheLastExpressionIsTheValue() {
    assertThat(py.eval("x = 41").value()).isNull();
    EvalResult r = py.eval("x + 1");
    assertThat(r.value()).isEqualTo("42");
    assertThat(r.stdout()).isEmpty();
    assertThat(py.eval("def inc():\n    global x\n    x += 1\ninc(); inc()\nx").value())
        .isEqualTo("43");
    assertThat(py.eval("print('shown'); 'text'").value()).isEqualTo("'text'");
    assertThat(py.eval("None").value()).isNull();
    assertThat(py.eval("import sys; print('to err', file=sys.stderr)").stderr())
        .isEqualTo("to err\n");
  }

  @Test
  void anAllocationPastTheMemoryCapIsAMemoryErrorInPython() {
    // The module declares a 64 MiB maximum; memory.grow past it fails and malloc returns NULL.
    EvalResult r = py.eval("blob = bytearray(256 * 2**20)");
    assertThat(r.error().type()).isEqualTo("MemoryError");
    assertThat(py.eval("small = bytearray(2**20)\nlen(small)").value()).isEqualTo("1048576");
  }

  @Test
  void namespacesAreSeparateButShareTheInterpreter() {
    assertThat(py.eval("ns_probe = 'zero'\nimport json").ok()).isTrue();
    EvalResult other =
        py.eval(
            "ns_probe_seen = 'ns_probe' in globals()\nimport json\n(ns_probe_seen, json.dumps(1))",
            "<ctx>",
            7,
            false);
    assertThat(other.value()).isEqualTo("(False, '1')");
    assertThat(py.eval("(ns_probe, 'ns_probe_seen' in globals())").value())
        .isEqualTo("('zero', False)");
    assertThat(py.eval("ns_probe_seen", "<ctx>", 7, false).value()).isEqualTo("False");
    assertThatThrownBy(() -> py.eval("1", "<x>", PythonRuntime.MAX_NAMESPACES, false))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aStreamedEvalWritesItsOutputToTheGuestsStreamsAsItGoes() {
    py.reactor().takeStdout();
    py.reactor().takeStderr();
    EvalResult r =
        py.eval("import sys\nprint('out', 1)\nprint('err', file=sys.stderr)\n'v'", "<s>", 0, true);
    assertThat(r.value()).isEqualTo("'v'");
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).isEmpty();
    assertThat(new String(py.reactor().takeStdout(), java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("out 1\n");
    assertThat(new String(py.reactor().takeStderr(), java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("err\n");
    // Taken, so gone; and an eval that is not streamed keeps its output for its answer.
    assertThat(py.reactor().takeStdout()).isEmpty();
    EvalResult kept = py.eval("print('kept')");
    assertThat(kept.stdout()).isEqualTo("kept\n");
    assertThat(py.reactor().takeStdout()).isEmpty();
  }

  @Test
  void outputPastTheCapEndsTheEvalButNotTheInterpreter() {
    py.outputCap(1000);
    try {
      EvalResult r = py.eval("for i in range(10**6):\n    print('spam' * 10)");
      assertThat(r.error().type()).isEqualTo("OutputLimitExceeded");
      assertThat(r.stdout()).hasSize(1000);
      assertThat(py.eval("'alive'").value()).isEqualTo("'alive'");
    } finally {
      py.outputCap(16 << 20);
    }
  }

  @Test
  void theTimeoutStopsARunawayLoopAndTheRuntimeIsDeadAfterwards() {
    // The timeout covers setup too, which takes seconds in a JVM that has not compiled it yet.
    try (PythonRuntime own =
        PythonRuntime.start(
            PythonRuntime.sandbox(guestRoot).timeout(Duration.ofSeconds(15)).build())) {
      assertThat(own.eval("y = 1").ok()).isTrue();
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> own.eval("while True: pass"))
          .isInstanceOfSatisfying(
              SandboxLimitException.class,
              e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.TIMEOUT));
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
      assertThatThrownBy(() -> own.eval("y"))
          .isInstanceOf(SandboxException.class)
          .hasMessageContaining("dead");
    }
  }
}
