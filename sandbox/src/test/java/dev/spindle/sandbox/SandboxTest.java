package dev.spindle.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.wasi.WasiState;
import dev.spindle.testing.Guests;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The {@link Sandbox} API against real C guests, in both engines. */
class SandboxTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(Engine.class)
  void commandSeesArgsEnvStdinAndReturnsItsExitCode(Engine engine) throws IOException {
    RunResult r =
        Sandbox.builder(Guests.bytes(Guests.command("hello")))
            .engine(engine)
            .args("big", "world", "7")
            .env("GREETING", "howdy")
            .stdin("from host".getBytes(UTF_8))
            .build()
            .run();

    assertThat(r.exitCode()).isEqualTo(7);
    assertThat(r.stdoutText()).isEqualTo("howdy big world 7\nstdin: from host\n");
    assertThat(r.stderrText()).isEqualTo("argc=4\n");
  }

  @Test
  void aBuiltSandboxIsAFrozenRecipeThatRunsAgain() throws IOException {
    SandboxBuilder b =
        Sandbox.builder(Guests.bytes(Guests.command("hello")))
            .args("one")
            .stdin("in".getBytes(UTF_8));
    Sandbox s = b.build();
    b.args("changed").env("GREETING", "changed");

    assertThat(s.run().stdoutText()).isEqualTo("hello one\nstdin: in\n");
    assertThat(s.run().stdoutText())
        .as("stdin bytes are read afresh")
        .isEqualTo("hello one\nstdin: in\n");
    GuestModule.Prepared first = s.prepared();
    s.run();
    assertThat(s.prepared()).as("parsed and compiled once per sandbox").isSameAs(first);
    assertThat(first.machines()).isNotNull();
  }

  @Test
  void environmentIsOnlyWhatTheHostGives() throws IOException {
    RunResult r = Sandbox.builder(Guests.bytes(Guests.command("hello"))).build().run();

    assertThat(r.stdoutText()).isEqualTo("hello\n"); // no GREETING leaks in from the host JVM
    assertThat(r.exitCode()).isZero();
  }

  @Test
  void outputCanBeStreamedInsteadOfCaptured() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RunResult r =
        Sandbox.builder(Guests.bytes(Guests.command("hello"))).args("x").stdout(out).build().run();

    assertThat(out.toString(UTF_8)).isEqualTo("hello x\n");
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void capturedOutputOverTheCapStopsTheGuest() throws IOException {
    Sandbox s =
        Sandbox.builder(Guests.bytes(Guests.command("hello")))
            .args("a long line")
            .outputCap(4)
            .build();

    assertThatThrownBy(s::run)
        .isInstanceOfSatisfying(
            SandboxLimitException.class,
            e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.OUTPUT))
        .hasMessageContaining("stdout exceeded the capture cap of 4 bytes");
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void guestReadsAndListsAPreopenedDirectory(Engine engine) throws IOException {
    Path data = Files.createDirectory(tmp.resolve("data"));
    Files.writeString(data.resolve("a.txt"), "alpha\n");
    Files.createDirectory(data.resolve("sub"));
    Files.writeString(data.resolve("sub/b.txt"), "beta\n");

    RunResult read =
        Sandbox.builder(Guests.command("reader"))
            .engine(engine)
            .args("/data/a.txt", "/data/sub/../sub/b.txt")
            .preopen("/data", data)
            .build()
            .run();
    RunResult list =
        Sandbox.builder(Guests.command("reader"))
            .engine(engine)
            .args("-l", "/data")
            .preopen("/data", data)
            .build()
            .run();

    assertThat(read.stdoutText()).isEqualTo("alpha\nbeta\n");
    assertThat(read.exitCode()).isZero();
    assertThat(list.stdoutText()).isEqualTo("a.txt\nsub\n");
  }

  @Test
  void guestCannotEscapeItsPreopenByDotDotOrSymlinks() throws IOException {
    Path data = Files.createDirectory(tmp.resolve("data"));
    Path secret = Files.writeString(tmp.resolve("secret.txt"), "secret");
    Files.createSymbolicLink(data.resolve("absolute"), secret.toAbsolutePath());
    Files.createSymbolicLink(data.resolve("relative"), Path.of("../secret.txt"));
    Files.writeString(data.resolve("ok.txt"), "ok");
    Files.createSymbolicLink(data.resolve("inside"), Path.of("ok.txt"));

    for (String path : new String[] {"/data/../secret.txt", "/data/absolute", "/data/relative"}) {
      RunResult r =
          Sandbox.builder(Guests.command("reader")).args(path).preopen("/data", data).build().run();
      assertThat(r.exitCode()).as(path).isEqualTo(2);
      assertThat(r.stdoutText())
          .as(path)
          .startsWith("cannot open " + path)
          .doesNotContain("secret\n");
    }
    RunResult inside =
        Sandbox.builder(Guests.command("reader"))
            .args("/data/inside")
            .preopen("/data", data)
            .build()
            .run();
    assertThat(inside.stdoutText()).isEqualTo("ok");
  }

  @Test
  void preopenMayLiveOnAnyFileSystemProvider() throws IOException {
    // The JDK's zip file system stands in for Spindle's image file system: read-only, not default.
    Path zip = tmp.resolve("image.zip");
    try (FileSystem fs = FileSystems.newFileSystem(zip, Map.of("create", "true"))) {
      Files.writeString(fs.getPath("/motd"), "from a zip\n");
    }
    try (FileSystem fs =
        FileSystems.newFileSystem(
            URI.create("jar:" + zip.toUri()), Map.of("accessMode", "readOnly"))) {
      RunResult r =
          Sandbox.builder(Guests.command("reader"))
              .args("/img/motd", "/img/missing")
              .preopen("/img", fs.getPath("/"))
              .build()
              .run();

      assertThat(r.stdoutText())
          .isEqualTo("from a zip\ncannot open /img/missing: No such file or directory\n");
      RunResult list =
          Sandbox.builder(Guests.command("reader"))
              .args("-l", "/img")
              .preopen("/img", fs.getPath("/"))
              .build()
              .run();
      assertThat(list.stdoutText()).isEqualTo("motd\n");
    }
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void reactorRunsInitializeThenExportsByName(Engine engine) throws IOException {
    try (Reactor r =
        Sandbox.builder(Guests.reactor("reactor")).engine(engine).build().startReactor()) {
      assertThat(r.call("add", 2, 40)).containsExactly(42);
      assertThat(r.call("fib", 90)).containsExactly(2880067194370816120L);
      assertThat(r.call("next")).containsExactly(101); // the constructor set 100 in _initialize
      assertThat(r.call("next")).containsExactly(102);
      assertThat(r.call("shout")).isEmpty();
      assertThat(new String(r.stdout(), UTF_8)).isEqualTo("counter is 102\n");
    }
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void childSandboxContinuesReadingFromTheParentsCapturedWasiState(Engine engine)
      throws IOException {
    Path data = Files.createDirectory(tmp.resolve("data"));
    Files.writeString(data.resolve("file.txt"), "abcdefgh");
    WasiState state;
    int fd;
    try (Reactor parent =
        Sandbox.builder(Guests.reactor("reactor"))
            .engine(engine)
            .preopen("/data", data)
            .build()
            .startReactor()) {
      fd = (int) parent.call("open_file")[0];
      assertThat(parent.call("read_byte", fd)).containsExactly('a');
      assertThat(parent.call("read_byte", fd)).containsExactly('b');
      state = parent.wasiState();
    }
    assertThat(state.fds())
        .anySatisfy(
            f -> {
              assertThat(f.fd()).isEqualTo(fd);
              assertThat(f.path()).isEqualTo("file.txt");
              assertThat(f.offset()).isEqualTo(2);
            });

    try (Reactor child =
        Sandbox.builder(Guests.reactor("reactor"))
            .engine(engine)
            .wasiState(state)
            .build()
            .startReactor()) {
      assertThat(child.call("read_byte", fd)).containsExactly('c');
      assertThat(child.call("read_byte", fd)).containsExactly('d');
    }
  }

  @Test
  void reactorTrapIsAnExceptionAndTheReactorIsDeadAfterwards() throws IOException {
    try (Reactor r = Sandbox.builder(Guests.reactor("reactor")).build().startReactor()) {
      assertThatThrownBy(() -> r.call("crash"))
          .isInstanceOf(SandboxException.class)
          .hasMessageContaining("guest trapped");
      assertThatThrownBy(() -> r.call("add", 1, 1))
          .isInstanceOf(SandboxException.class)
          .hasMessageContaining("dead");
    }
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void runawayReactorCallIsStoppedAndUnboundedRecursionTraps(Engine engine) throws IOException {
    try (Reactor r =
        Sandbox.builder(Guests.reactor("reactor"))
            .engine(engine)
            .timeout(Duration.ofMillis(500))
            .build()
            .startReactor()) {
      assertThatThrownBy(() -> r.call("spin"))
          .isInstanceOfSatisfying(
              SandboxLimitException.class,
              e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.TIMEOUT));
    }
    try (Reactor r =
        Sandbox.builder(Guests.reactor("reactor")).engine(engine).build().startReactor()) {
      assertThatThrownBy(() -> r.call("recurse", 0))
          .isInstanceOf(SandboxException.class)
          .hasMessageContaining("call stack exhausted");
    }
    try (Reactor r =
        Sandbox.builder(Guests.reactor("reactor")).engine(engine).build().startReactor()) {
      assertThatThrownBy(() -> r.call("recurse_shadow", 0))
          .isInstanceOf(SandboxException.class)
          .hasMessageContaining("guest trapped: out of bounds memory access");
    }
  }

  @Test
  void unknownExportIsAClearError() throws IOException {
    try (Reactor r = Sandbox.builder(Guests.reactor("reactor")).build().startReactor()) {
      assertThatThrownBy(() -> r.call("nope"))
          .isInstanceOf(SandboxException.class)
          .hasMessageContaining("nope");
    }
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void runawayGuestIsStoppedByTheTimeoutAndTheHostCarriesOn(Engine engine) throws IOException {
    Sandbox spin =
        Sandbox.builder(Guests.command("spin"))
            .engine(engine)
            .timeout(Duration.ofMillis(500))
            .build();

    assertThatThrownBy(spin::run)
        .isInstanceOfSatisfying(
            SandboxLimitException.class,
            e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.TIMEOUT))
        .hasMessageContaining("TIMEOUT limit")
        .hasMessageContaining("was stopped");
    assertThat(Thread.currentThread().isInterrupted())
        .as("only the guest thread is interrupted")
        .isFalse();
    // The same JVM runs the next guest normally.
    assertThat(Sandbox.builder(Guests.command("hello")).engine(engine).build().run().exitCode())
        .isZero();
  }

  @Test
  void guestBlockedReadingStdinIsStoppedByTheTimeout() throws IOException {
    PipedOutputStream neverWritten = new PipedOutputStream();
    Sandbox s =
        Sandbox.builder(Guests.command("hello"))
            .stdin(new PipedInputStream(neverWritten))
            .timeout(Duration.ofMillis(500))
            .build();

    assertThatThrownBy(s::run)
        .isInstanceOfSatisfying(
            SandboxLimitException.class,
            e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.TIMEOUT))
        .hasMessageContaining("was stopped");
    neverWritten.close();
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void memoryHogHitsThePageCap(Engine engine) throws IOException {
    Sandbox hog =
        Sandbox.builder(Guests.command("hog"))
            .engine(engine)
            .maxMemoryPages(256)
            .timeout(Duration.ofMinutes(1))
            .build();

    assertThatThrownBy(hog::run)
        .isInstanceOfSatisfying(
            SandboxLimitException.class,
            e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.MEMORY))
        .hasMessageContaining("of at most 256 pages");
  }

  @Test
  void malformedModuleIsAnInstantiationErrorNotATrap() {
    Sandbox s = Sandbox.builder(new byte[] {0, 'a', 's', 'm', 9, 9, 9, 9}).build();

    assertThatThrownBy(s::run)
        .isInstanceOf(SandboxException.class)
        .hasMessageStartingWith("cannot instantiate the module");
  }

  @Test
  void moduleNeedingMorePagesThanTheCapIsRefusedUpFront() throws IOException {
    Sandbox s = Sandbox.builder(Guests.command("hello")).maxMemoryPages(1).build();

    assertThatThrownBy(s::run)
        .isInstanceOfSatisfying(
            SandboxLimitException.class,
            e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.MEMORY))
        .hasMessageContaining("the cap is 1");
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void memoryFactoryIsTheSeamForSpindlesPagedMemory(Engine engine) throws IOException {
    AtomicInteger made = new AtomicInteger();
    RunResult r =
        Sandbox.builder(Guests.command("hello"))
            .engine(engine)
            .args("paged")
            .memoryFactory(
                limits -> {
                  made.incrementAndGet();
                  return new ByteArrayMemory(limits);
                })
            .build()
            .run();

    assertThat(made).hasValue(1);
    assertThat(r.stdoutText()).isEqualTo("hello paged\n");
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void memoryIsSpindlesPagedMemoryByDefault(Engine engine) throws IOException {
    try (Reactor r =
        Sandbox.builder(Guests.reactor("reactor")).engine(engine).build().startReactor()) {
      assertThat(r.memory()).isInstanceOf(PagedMemory.class);
      assertThat(r.call("next")).containsExactly(101);
      assertThat(((PagedMemory) r.memory()).counts().privatePages()).isPositive();
    }
  }
}
