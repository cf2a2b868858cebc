package dev.spindle.bench;

import dev.spindle.sandbox.RunResult;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.SandboxBuilder;
import dev.spindle.sandbox.ruby.RubyVm;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * One sandbox start in a fresh JVM, for {@link SandboxBench}'s start rows: {@code StartOnce c|ruby
 * WASM CACHE_DIR|none} prints the milliseconds from {@code main} to the guest's first output
 * ({@code hello} for C, {@code puts 1} for CRuby).
 */
public final class StartOnce {
  private StartOnce() {}

  public static void main(String[] args) throws Exception {
    long start = System.nanoTime();
    SandboxBuilder b = Sandbox.builder(Path.of(args[1]));
    if (args[2].equals("none")) {
      b.noCompiledCache();
    } else {
      b.compiledCache(Path.of(args[2]));
    }
    String out;
    if (args[0].equals("ruby")) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (RubyVm vm = RubyVm.start(b.stdout(bytes).build(), List.of("ruby", "-EUTF-8", "-e_=0"))) {
        vm.eval("puts 1");
      }
      out = bytes.toString(StandardCharsets.UTF_8);
    } else {
      RunResult r = b.build().run();
      out = r.stdoutText();
    }
    System.out.printf("ms=%.1f out=%s%n", (System.nanoTime() - start) / 1e6, out.strip());
  }
}
