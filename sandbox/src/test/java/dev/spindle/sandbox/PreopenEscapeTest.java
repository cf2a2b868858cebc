package dev.spindle.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.sandbox.overlay.OverlayFileSystems;
import dev.spindle.testing.Guests;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A guest in C ({@code escape.c}) tries every way out of its preopen an attacker would: a directory
 * fd whose directory is renamed away and replaced by a link, {@code ..} through a directory fd,
 * links it makes and links the host made, hard links, renames out, a host-side swap racing its
 * lookups, writes to a read-only image. With a host directory and with an image under a writable
 * upper layer, in both engines. {@code ../outside/secret.txt} must never be read and {@code
 * ../outside} never written.
 */
class PreopenEscapeTest {
  @TempDir Path tmp;

  private Path outside;

  @BeforeEach
  void outside() throws IOException {
    outside = Files.createDirectory(tmp.resolve("outside"));
    Files.writeString(outside.resolve("secret.txt"), "SECRET\n");
  }

  private void assertOutsideUntouched(String output) throws IOException {
    assertThat(output).doesNotContain("SECRET");
    try (Stream<Path> s = Files.list(outside)) {
      assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("secret.txt");
    }
    assertThat(Files.readString(outside.resolve("secret.txt"))).isEqualTo("SECRET\n");
  }

  /** "SCENARIO STEP: RESULT" lines by "SCENARIO STEP". */
  private static Map<String, String> steps(String output) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : output.split("\n")) {
      int colon = line.indexOf(": ");
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 2));
      }
    }
    return out;
  }

  private static void assertRefused(Map<String, String> steps, String... names) {
    for (String n : names) {
      assertThat(steps.get(n)).as(n).isNotNull().doesNotStartWith("ok");
    }
  }

  private RunResult run(Engine engine, Path data, String... scenarios) throws IOException {
    return Sandbox.builder(Guests.command("escape"))
        .engine(engine)
        .args(scenarios)
        .preopen("/data", data)
        .build()
        .run();
  }

  private RunResult runOverImage(Engine engine, Path src, String... scenarios) throws IOException {
    Path image = tmp.resolve("base.img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE).make(src.toString(), image);
    Path upper = Files.createDirectory(tmp.resolve("upper"));
    try (FileSystem imageFs = FileSystems.newFileSystem(image, Map.of("mode", "indexed"));
        FileSystem overlay = OverlayFileSystems.newFileSystem(imageFs.getPath("/"), upper)) {
      return Sandbox.builder(Guests.command("escape"))
          .engine(engine)
          .args(scenarios)
          .preopen("/data", overlay.getPath("/"))
          .build()
          .run();
    }
  }

  private Path hostData() throws IOException {
    Path data = Files.createDirectory(tmp.resolve("data"));
    Files.createSymbolicLink(
        data.resolve("host-abs"), outside.resolve("secret.txt").toAbsolutePath());
    Files.createSymbolicLink(data.resolve("host-climb"), Path.of("../outside/secret.txt"));
    Files.createSymbolicLink(data.resolve("host-climb-new"), Path.of("../outside/new.txt"));
    return data;
  }

  private static void assertEveryEscapeRefused(Map<String, String> s) {
    assertThat(s.get("swap rename")).isEqualTo("ok");
    assertThat(s.get("swap symlink")).isEqualTo("ok");
    assertRefused(
        s, "swap read", "swap write", "swap mkdirat", "swap symlinkat", "swap stat", "swap unlink");
    assertThat(s.get("swap list")).doesNotContain("secret.txt");
    assertRefused(s, "dotdot up2", "dotdot up1", "dotdot write", "dotdot preopen");
    assertRefused(
        s,
        "links read-climb",
        "links absolute",
        "links hardlink-follow",
        "links read-hardlink",
        "links read-host-abs",
        "links read-host-climb",
        "links write-host-climb",
        "links rename-out");
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void aHostDirectoryPreopenHolds(Engine engine) throws IOException {
    Path data = hostData();
    RunResult r = run(engine, data, "swap", "dotdot", "links");

    Map<String, String> s = steps(r.stdoutText());
    assertThat(r.exitCode()).as(r.stdoutText()).isZero();
    assertEveryEscapeRefused(s);
    // The old directory is where the guest renamed it, untouched by the refused writes.
    try (Stream<Path> moved = Files.list(data.resolve("moved"))) {
      assertThat(moved).isEmpty();
    }
    assertOutsideUntouched(r.stdoutText());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void anImageUnderAWritableUpperLayerHolds(Engine engine) throws IOException {
    // The upper directory sits beside ../outside, so a host-followed link would land there.
    Path src = Files.createDirectory(tmp.resolve("src"));
    Files.createSymbolicLink(
        src.resolve("host-abs"), outside.resolve("secret.txt").toAbsolutePath());
    Files.createSymbolicLink(src.resolve("host-climb"), Path.of("../outside/secret.txt"));
    Files.createSymbolicLink(src.resolve("host-climb-new"), Path.of("../outside/new.txt"));
    RunResult r = runOverImage(engine, src, "swap", "dotdot", "links");

    assertThat(r.exitCode()).as(r.stdoutText()).isZero();
    assertEveryEscapeRefused(steps(r.stdoutText()));
    assertOutsideUntouched(r.stdoutText());
  }

  @Test
  void renameAndLinkAcrossPreopensStayInside() throws IOException {
    Path data = Files.createDirectory(tmp.resolve("data"));
    Path other = Files.createDirectory(tmp.resolve("other"));
    RunResult r =
        Sandbox.builder(Guests.command("escape"))
            .args("across")
            .preopen("/data", data)
            .preopen("/other", other)
            .build()
            .run();

    Map<String, String> s = steps(r.stdoutText());
    assertThat(s.get("across rename")).isEqualTo("ok");
    assertThat(s.get("across read")).isEqualTo("ok across");
    assertThat(s.get("across read-link")).isEqualTo("ok across");
    assertThat(Files.readString(other.resolve("a.txt"))).isEqualTo("across\n");
    assertThat(Files.isSameFile(other.resolve("a.txt"), data.resolve("b.txt"))).isTrue();
  }

  @Test
  void aHostSideSwapRacingTheGuestsLookupsNeverLeadsOut() throws Exception {
    Path data = Files.createDirectory(tmp.resolve("data"));
    Path race = Files.createDirectory(data.resolve("race"));
    Files.writeString(race.resolve("secret.txt"), "inside\n");
    AtomicBoolean stop = new AtomicBoolean();
    Thread swapper =
        Thread.ofPlatform()
            .start(
                () -> {
                  Path parked = data.resolve("parked");
                  while (!stop.get()) {
                    try {
                      Files.move(race, parked, StandardCopyOption.ATOMIC_MOVE);
                      Files.createSymbolicLink(race, Path.of("../outside"));
                      Thread.onSpinWait();
                      Files.delete(race);
                      Files.move(parked, race, StandardCopyOption.ATOMIC_MOVE);
                      Thread.sleep(0, 200_000);
                    } catch (IOException | InterruptedException e) {
                      throw new IllegalStateException(e);
                    }
                  }
                });
    RunResult r;
    try {
      r =
          Sandbox.builder(Guests.command("escape"))
              .args("race")
              .preopen("/data", data)
              .build()
              .run();
    } finally {
      stop.set(true);
      swapper.join();
    }

    assertThat(r.stdoutText()).startsWith("race: leaked 0 inside some");
    assertOutsideUntouched(r.stdoutText());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void writesToAReadOnlyImageFailCleanly(Engine engine) throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src/etc"));
    Files.writeString(src.resolve("motd"), "from the image\n");
    Path image = tmp.resolve("ro.img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE)
        .make(tmp.resolve("src").toString(), image);
    RunResult r;
    try (FileSystem imageFs = FileSystems.newFileSystem(image, Map.of("mode", "indexed"))) {
      r =
          Sandbox.builder(Guests.command("escape"))
              .engine(engine)
              .args("readonly")
              .preopen("/data", imageFs.getPath("/"))
              .build()
              .run();
    }

    Map<String, String> s = steps(r.stdoutText());
    assertRefused(s, "readonly write", "readonly trunc", "readonly create");
    assertThat(s.get("readonly read")).isEqualTo("ok from the image");
    assertThat(r.exitCode()).isZero();
  }
}
