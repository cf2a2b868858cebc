package dev.spindle.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.store.Hashes;
import dev.spindle.testing.Guests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompiledCacheTest {
  @TempDir Path cache;

  private Sandbox sandbox(String arg) throws IOException {
    return Sandbox.builder(Guests.command("hello")).args(arg).compiledCache(cache).build();
  }

  @Test
  void secondStartLoadsTheClassesTheFirstCompiled() throws IOException {
    Sandbox first = sandbox("one");
    assertThat(first.run().stdoutText()).isEqualTo("hello one\n");
    CompiledCache entry = first.compiledCache();
    assertThat(entry.hit()).isFalse();
    assertThat(entry.file()).exists();
    assertThat(entry.file().getParent().getFileName().toString())
        .isEqualTo(Hashes.sha256Hex(Guests.bytes(Guests.command("hello"))));

    Sandbox second = sandbox("two");
    assertThat(second.run().stdoutText()).isEqualTo("hello two\n");
    assertThat(second.compiledCache().hit()).isTrue();
    assertThat(second.compiledCache().file()).isEqualTo(entry.file());
  }

  @Test
  void aDamagedEntryIsRecompiledAndReplacedNeverLoaded() throws IOException {
    Sandbox first = sandbox("one");
    first.run();
    Path file = first.compiledCache().file();
    byte[] sound = Files.readAllBytes(file);
    byte[] damaged = sound.clone();
    damaged[damaged.length / 2] ^= 1;
    Files.write(file, damaged);

    Sandbox second = sandbox("two");
    assertThat(second.run().stdoutText()).isEqualTo("hello two\n");
    assertThat(second.compiledCache().hit()).isFalse();
    Sandbox check = sandbox("check"); // the rewritten entry is sound (the jar itself carries a
    check.run(); // timestamp, so it need not equal the first one)
    assertThat(check.compiledCache().hit()).isTrue();

    Files.write(file, Arrays.copyOf(sound, 40)); // torn write
    Sandbox third = sandbox("three");
    assertThat(third.run().stdoutText()).isEqualTo("hello three\n");
    assertThat(third.compiledCache().hit()).isFalse();
    assertThat(sandbox("four").compiledCache()).isNull(); // not prepared before the first run
  }

  @Test
  void theInterpreterAndACacheSwitchedOffWriteNothing() throws IOException {
    Sandbox interpreted =
        Sandbox.builder(Guests.command("hello"))
            .engine(Engine.INTERPRETER)
            .compiledCache(cache)
            .build();
    interpreted.run();
    Sandbox uncached =
        Sandbox.builder(Guests.command("hello")).compiledCache(cache).noCompiledCache().build();
    assertThat(uncached.run().stdoutText()).isEqualTo("hello\n");

    assertThat(interpreted.compiledCache()).isNull();
    assertThat(uncached.compiledCache()).isNull();
    try (var files = Files.list(cache)) {
      assertThat(files).isEmpty();
    }
  }
}
