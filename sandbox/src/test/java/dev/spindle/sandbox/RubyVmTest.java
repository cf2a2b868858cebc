package dev.spindle.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.sandbox.ruby.RubyVm;
import dev.spindle.store.SpindleCache;
import dev.spindle.testing.Requirements;
import dev.spindle.testing.TestFiles;
import dev.spindle.testing.Tool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CRuby from npm in a sandbox, reading a script from an image. One VM for the whole test: even with
 * the compiled module cached, CRuby takes seconds to boot on Chicory (see sandbox/README.md).
 */
class RubyVmTest {
  @TempDir Path tmp;

  @Test
  void runsRubyCodeReadsFilesFromAnImageAndTrapsAtTheJavaScriptBridge()
      throws IOException, InterruptedException {
    Path wasm = NpmGuests.ruby();
    Path src = Files.createDirectories(tmp.resolve("src/lib"));
    Files.writeString(src.resolve("greet.rb"), "def greet(who) = \"hello, #{who}\"\n");
    Files.writeString(src.resolve("data.txt"), "3\n4\n5\n");
    Path image = tmp.resolve("app.img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE).make(src.getParent().toString(), image);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (FileSystem imageFs = FileSystems.newFileSystem(image, Map.of("mode", "indexed"))) {
      Sandbox sandbox =
          Sandbox.builder(wasm)
              .stdout(out)
              .stderr(err)
              .preopen("/app", imageFs.getPath("/"))
              .build();
      try (RubyVm ruby = RubyVm.start(sandbox, List.of("ruby", "-EUTF-8", "-e_=0"))) {
        ruby.eval("puts [1, 2, 3].sum");
        ruby.eval("require '/app/lib/greet'; puts greet(RUBY_ENGINE)");
        ruby.eval("puts File.readlines('/app/lib/data.txt').sum(&:to_i)");
        ruby.eval(
            "require 'json'; puts JSON.generate({a: [1, nil]})"); // stdlib packed in the module
        assertThatThrownBy(() -> ruby.eval("raise 'boom'"))
            .isInstanceOf(SandboxException.class)
            .hasMessageContaining("Ruby code raised");
        ruby.eval("puts :still_alive");
        // The JavaScript bridge is stubbed: reaching it traps, naming the import.
        assertThatThrownBy(() -> ruby.eval("require 'js'; JS.eval('1')"))
            .isInstanceOf(SandboxException.class)
            .hasMessageContaining("rb-js-abi-host.");
      }
    }
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo("6\nhello, ruby\n12\n{\"a\":[1,null]}\nstill_alive\n");
  }

  /**
   * The npm guests ({@code scripts/npm-guests}), installed on first use; skips without npm, or
   * fails where the build requires them ({@code -Dspindle.require}).
   */
  static final class NpmGuests {
    private NpmGuests() {}

    static synchronized Path ruby() throws IOException, InterruptedException {
      Path prefix = SpindleCache.root().resolve("guests/npm");
      Path wasm = RubyVm.wasm(prefix);
      if (!Files.exists(wasm)) {
        Requirements.require(Tool.NPM_GUESTS); // npm, to install them
        Path script = TestFiles.findUpward("scripts/npm-guests");
        Requirements.require(Tool.NPM_GUESTS, script != null, "scripts/npm-guests not found");
        Process p = new ProcessBuilder(script.toString()).inheritIO().start();
        Requirements.require(
            Tool.NPM_GUESTS,
            p.waitFor() == 0 && Files.exists(wasm),
            "npm could not install " + RubyVm.NPM_PACKAGE);
      }
      return wasm;
    }
  }
}
