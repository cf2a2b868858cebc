package dev.spindle.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.testing.Requires;
import dev.spindle.testing.TestFiles;
import dev.spindle.testing.Tool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official WASI conformance suite (wasi-testsuite, wasm32-wasip1), one dynamic test per case
 * and engine, judged as doc/specification.md says: exit code and stdout. The suite lives beside the
 * repository ({@code ../shared/wasi-testsuite}); without it the test is skipped, or fails where the
 * build requires it ({@code -Dspindle.require}).
 */
@Requires(Tool.WASI_SUITE)
class WasiTestsuiteTest {
  private static final List<String> LANGUAGES = List.of("c", "assemblyscript", "rust");

  /** Cases not run, each with its reason. The only place exclusions are made. */
  static final Map<String, String> EXCLUDED = Map.of();

  private static final Map<String, String> OUTCOMES = new ConcurrentHashMap<>();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path work;

  @TestFactory
  Stream<DynamicNode> wasiTestsuite() {
    Path suite =
        Objects.requireNonNull(
            TestFiles.findUpward("shared/wasi-testsuite/tests"),
            "@Requires(Tool.WASI_SUITE) found it");
    List<DynamicNode> engines = new ArrayList<>();
    for (Engine engine : Engine.values()) {
      List<DynamicNode> languages = new ArrayList<>();
      for (String language : LANGUAGES) {
        Path dir = suite.resolve(language).resolve("testsuite/wasm32-wasip1");
        languages.add(
            DynamicContainer.dynamicContainer(
                language,
                cases(dir).stream()
                    .map(
                        wasm ->
                            DynamicTest.dynamicTest(
                                name(wasm), () -> runCase(engine, language, wasm)))));
      }
      engines.add(
          DynamicContainer.dynamicContainer(
              engine.name().toLowerCase(java.util.Locale.ROOT), languages));
    }
    return engines.stream();
  }

  private static List<Path> cases(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".wasm")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String name(Path wasm) {
    return wasm.getFileName().toString().replaceFirst("\\.wasm$", "");
  }

  private void runCase(Engine engine, String language, Path wasm) throws IOException {
    String id = language + "/" + name(wasm);
    String key = engine.name().toLowerCase(java.util.Locale.ROOT) + " " + id;
    String excluded = EXCLUDED.get(id);
    if (excluded != null) {
      OUTCOMES.put(key, "skipped: " + excluded);
      assumeTrue(false, excluded);
    }
    OUTCOMES.put(key, "failed");
    Path specFile = wasm.resolveSibling(name(wasm) + ".json");
    JsonNode spec =
        Files.exists(specFile) ? JSON.readTree(specFile.toFile()) : JSON.createObjectNode();
    SandboxBuilder b =
        Sandbox.builder(wasm)
            .argv0(wasm.getFileName().toString())
            .engine(engine)
            .timeout(Duration.ofMinutes(2));
    List<String> args = new ArrayList<>();
    spec.path("args").forEach(a -> args.add(a.asText()));
    b.args(args.toArray(String[]::new));
    spec.path("env").properties().forEach(e -> b.env(e.getKey(), e.getValue().asText()));
    if (spec.hasNonNull("root")) {
      // Cases create and delete files in their root: each run gets a fresh copy.
      Path copy = Files.createTempDirectory(work, name(wasm));
      copyTree(wasm.resolveSibling(spec.get("root").asText()), copy);
      b.preopen("/", copy);
    }
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    b.stderr(stderr);
    RunResult r;
    try {
      r = b.build().run();
    } catch (SandboxException e) {
      OUTCOMES.put(
          key, "failed: " + e.getMessage() + ", stderr [" + stderr.toString(UTF_8).strip() + "]");
      throw e;
    }
    String detail =
        "exit "
            + r.exitCode()
            + ", stdout ["
            + r.stdoutText()
            + "], stderr ["
            + stderr.toString(UTF_8).strip()
            + "]";
    OUTCOMES.put(key, "failed: " + detail);
    assertThat(r.exitCode()).as(detail).isEqualTo(spec.path("exit_code").asInt(0));
    // As in the suite's reference runner, stdout is judged only when the spec gives it.
    if (spec.has("stdout")) {
      assertThat(r.stdoutText()).as(detail).isEqualTo(spec.get("stdout").asText());
    }
    OUTCOMES.put(key, "passed");
  }

  static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  @AfterAll
  static void summary() throws IOException {
    if (OUTCOMES.isEmpty()) {
      return;
    }
    Map<String, int[]> counts = new TreeMap<>();
    StringBuilder notPassed = new StringBuilder();
    new TreeMap<>(OUTCOMES)
        .forEach(
            (k, v) -> {
              String group = k.substring(0, k.indexOf('/'));
              int[] c = counts.computeIfAbsent(group, g -> new int[3]);
              c[v.equals("passed") ? 0 : v.startsWith("skipped") ? 2 : 1]++;
              if (!v.equals("passed")) {
                notPassed.append("  ").append(k).append(": ").append(v).append('\n');
              }
            });
    StringBuilder out =
        new StringBuilder("wasi-testsuite (wasm32-wasip1): passed/failed/skipped\n");
    counts.forEach(
        (g, c) ->
            out.append("  ")
                .append(g)
                .append(": ")
                .append(c[0])
                .append('/')
                .append(c[1])
                .append('/')
                .append(c[2])
                .append('\n'));
    out.append(notPassed);
    Path report = Path.of("target", "wasi-testsuite-summary.txt");
    Files.createDirectories(report.getParent());
    Files.writeString(report, out);
    System.out.print(out);
  }
}
