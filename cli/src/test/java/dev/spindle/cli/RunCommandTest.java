package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.testing.Guests;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spindle run} in-process with the sandbox module's C guests. */
class RunCommandTest {
  @TempDir Path tmp;

  private CliRunner.Result run(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "run";
    System.arraycopy(args, 0, all, 1, args.length);
    return new CliRunner(tmp.resolve("home")).run(all);
  }

  private Path fsops;

  @BeforeEach
  void makeImage() throws Exception {
    fsops = Guests.command("fsops");
    Path src = Files.createDirectories(tmp.resolve("src/etc"));
    Files.writeString(src.resolve("motd"), "from the image");
    Files.createDirectories(tmp.resolve("src/bin"));
    Files.copy(fsops, tmp.resolve("src/bin/fsops.wasm"));
    assertThat(
            Main.run(
                "image",
                "make",
                tmp.resolve("src").toString(),
                "-t",
                "base",
                "-q",
                "--home",
                tmp.resolve("home").toString()))
        .isZero();
  }

  @Test
  void theGuestsExitCodeOutputArgsAndEnvironmentPassThrough() {
    CliRunner.Result r =
        run(
            "--wasm",
            Guests.command("hello").toString(),
            "--env",
            "GREETING=hi",
            "--",
            "a",
            "b",
            "7");

    assertThat(r.out()).isEqualTo("hi a b 7\n");
    assertThat(r.err()).isEqualTo("argc=4\n");
    assertThat(r.code()).isEqualTo(7);
  }

  @Test
  void chicorysMemoryIsSelectableForComparison() {
    CliRunner.Result r =
        run("--wasm", Guests.command("hello").toString(), "--memory-model", "builtin", "--", "x");
    assertThat(r.out()).isEqualTo("hello x\n");
    CliRunner.Result flat = run("--wasm", fsops.toString(), "--memory-model", "flat");
    assertThat(flat.err()).contains("--memory-model").contains("PAGED, BUILTIN").contains("'flat'");
    assertThat(flat.code()).isEqualTo(2);
    assertThat(run("--wasm", fsops.toString(), "--engine", "jit").err())
        .contains("COMPILED, INTERPRETER");
  }

  /** -e is --env's short name here as in 'container run' and 'sandbox create' (one mixin). */
  @Test
  void shortEnvOptionAndMalformedEntriesAreRefusedNamingTheEntry() {
    CliRunner.Result r =
        run("--wasm", Guests.command("hello").toString(), "-e", "GREETING=hey", "--", "z");
    assertThat(r.out()).isEqualTo("hey z\n");
    CliRunner.Result bad = run("--wasm", Guests.command("hello").toString(), "-e", "GREETING");
    assertThat(bad.err()).contains("--env").contains("NAME=VALUE").contains("GREETING");
    assertThat(bad.code()).isNotZero();
  }

  @Test
  void theModuleAndAWritableDirectoryComeFromTheImage() throws Exception {
    Path upper = tmp.resolve("upper");
    CliRunner.Result r =
        run(
            "--image",
            "base",
            "--wasm",
            "/bin/fsops.wasm",
            "--dir",
            "/data=image:/etc",
            "--upper",
            upper.toString(),
            "--engine",
            "interpreter",
            "--",
            "cat:/data/motd",
            "append:/data/motd=!",
            "cat:/data/motd");

    assertThat(r.err()).isEmpty();
    assertThat(r.out())
        .isEqualTo("/data/motd:from the image\nappend /data/motd\n/data/motd:from the image!\n");
    assertThat(r.code()).isZero();
    assertThat(Files.readString(upper.resolve("data/motd"))).isEqualTo("from the image!");
    assertThat(
            run(
                    "--image",
                    "base",
                    "--wasm",
                    "/bin/fsops.wasm",
                    "--dir",
                    "/data=image:/etc",
                    "--",
                    "cat:/data/motd")
                .out())
        .isEqualTo(
            "/data/motd:from the image\n"); // a fresh temporary layer: the image is unchanged
  }

  @Test
  void hostDirectoriesAreWritableInPlace() throws Exception {
    Path host = Files.createDirectories(tmp.resolve("host"));
    CliRunner.Result r =
        run("--wasm", fsops.toString(), "--dir", "/h=" + host, "--", "write:/h/out.txt=written");

    assertThat(r.code()).isZero();
    assertThat(Files.readString(host.resolve("out.txt"))).isEqualTo("written");
  }

  @Test
  void callsExportsOfAReactorAndPrintsTheirResults() {
    CliRunner.Result r =
        run(
            "--wasm",
            Guests.reactor("reactor").toString(),
            "--call",
            "add",
            "2",
            "40",
            "--call",
            "next",
            "--call",
            "shout");

    assertThat(r.out()).isEqualTo("42\n101\ncounter is 101\n\n");
    assertThat(r.code()).isZero();
  }

  @Test
  void runWithSnapshotStoresTheReactorAndBranchesResumeIt() {
    CliRunner.Result r =
        run(
            "--wasm",
            Guests.reactor("reactor").toString(),
            "--call",
            "next",
            "--call",
            "next",
            "--snapshot",
            "after2",
            "--mode",
            "live");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("101\n102\n");
    assertThat(r.err()).contains("snapshot after2 (live): ").contains("ready in");
    assertThat(tmp.resolve("home/snapshots/after2/memory.bin")).exists();

    CliRunner.Result b =
        new CliRunner(tmp.resolve("home")).run("branch", "after2", "-n", "2", "--call", "next");
    assertThat(b.code()).as(b.err()).isZero();
    assertThat(b.out()).contains("[0] next() = 103\n").contains("[1] next() = 103\n");
    assertThat(
            run(
                    "--wasm",
                    Guests.reactor("reactor").toString(),
                    "--call",
                    "next",
                    "--snapshot",
                    "after2")
                .code())
        .as("the tag is taken")
        .isNotZero();
  }

  @Test
  void limitsAndTrapsEndWithOneLineAndTheirOwnExitCodes() {
    CliRunner.Result timeout =
        run("--wasm", Guests.command("spin").toString(), "--timeout", "300ms");
    assertThat(timeout.code()).isEqualTo(ExitCodes.TIMEOUT);
    assertThat(timeout.err()).startsWith("spindle: TIMEOUT limit:").hasLineCount(1);

    CliRunner.Result memory =
        run("--wasm", Guests.command("hog").toString(), "--max-memory", "4MiB");
    assertThat(memory.code()).isEqualTo(ExitCodes.MEMORY);
    assertThat(memory.err()).contains("spindle: MEMORY limit:");

    CliRunner.Result trap = run("--wasm", Guests.reactor("reactor").toString(), "--call", "crash");
    assertThat(trap.code()).isEqualTo(ExitCodes.TRAP);
    assertThat(trap.err()).startsWith("spindle: ").contains("trap").hasLineCount(1);
  }

  @Test
  void callArgumentsReadTheSameInEveryCommand() {
    // Decimal even with a leading zero (010 is ten, not octal eight), hexadecimal after 0x.
    CliRunner.Result r =
        run("--wasm", Guests.reactor("reactor").toString(), "--call", "add", "010", "0x10");
    assertThat(r.out()).isEqualTo("26\n");
    assertThat(CallOptions.Consumer.parseArg("f", "-7")).isEqualTo(-7);
    assertThat(CallOptions.Consumer.parseArg("f", "0xffffffffffffffff")).isEqualTo(-1);
  }

  @Test
  void badOptionsNameWhatIsWrong() {
    assertThat(run("--wasm", "nope.wasm").err())
        .isEqualTo("spindle: error: --wasm: no such file: nope.wasm\n");
    assertThat(run("--wasm", fsops.toString(), "--max-memory", "lots").err())
        .isEqualTo("spindle: error: --max-memory: not a size (e.g. 64MiB, 1g): lots\n");
    assertThat(run("--wasm", fsops.toString(), "--timeout", "0s").err())
        .isEqualTo("spindle: error: --timeout: must be positive: 0s\n");
    assertThat(run("--wasm", fsops.toString(), "--dir", "/d=image:/etc").err())
        .isEqualTo("spindle: error: --dir /d=image:/etc: needs --image\n");
    CliRunner.Result two =
        run("--wasm", Guests.reactor("reactor").toString(), "--call", "add", "two");
    assertThat(two.err()).contains("--call add: argument 'two' is not an integer");
    assertThat(two.code()).as("a usage error, as in snapshot and branch").isEqualTo(2);
  }
}
