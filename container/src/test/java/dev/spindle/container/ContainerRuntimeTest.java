package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spindle.fuse.MountOptions;
import dev.spindle.fuse.MountPoints;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageMaker;
import dev.spindle.image.MakeOptions;
import dev.spindle.image.Progress;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real containers: runc over overlay over a FUSE mount of a busybox image made here. */
class ContainerRuntimeTest {
  private static final Path BUSYBOX = Path.of("/bin/busybox");

  @TempDir static Path shared;
  static Path imageFile;
  static Image image;
  @TempDir Path tmp;
  Path state;
  ContainerRuntime runtime;
  final List<Container> started = new ArrayList<>();

  @BeforeAll
  static void makeBusyboxImage() throws IOException {
    assumeTrue(Files.exists(Path.of("/dev/fuse")), "skipped: /dev/fuse is missing, FUSE cannot work here");
    assumeTrue(Files.isExecutable(BUSYBOX), "skipped: no " + BUSYBOX + " (apt-get install busybox-static)");
    try {
      Runc.locate();
    } catch (IOException e) {
      assumeTrue(false, "skipped: " + e.getMessage());
    }
    Path root = Files.createDirectories(shared.resolve("rootfs"));
    Path bin = Files.createDirectories(root.resolve("bin"));
    Files.copy(BUSYBOX, bin.resolve("busybox"));
    for (String applet : List.of("sh", "ls", "cat", "echo", "rm", "sleep")) {
      Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
    }
    Files.writeString(Files.createDirectories(root.resolve("etc")).resolve("motd"), "welcome to the image\n");
    imageFile = shared.resolve("busybox.img");
    new ImageMaker(MakeOptions.defaults().withDate(OffsetDateTime.parse("2026-01-01T00:00:00Z")), Progress.NONE)
        .make(root.toString(), imageFile);
    image = Image.open(imageFile, AccessMode.INDEXED);
  }

  @AfterAll
  static void closeImage() throws IOException {
    if (image != null) {
      image.close();
    }
  }

  Container start(ContainerSpec spec) throws IOException {
    return start(spec, MountOptions.defaults());
  }

  Container start(ContainerSpec spec, MountOptions options) throws IOException {
    state = tmp.resolve("state");
    runtime = new ContainerRuntime(state);
    Container c = runtime.start(image, spec, options);
    started.add(c);
    return c;
  }

  @AfterEach
  void closeAll() throws IOException {
    for (Container c : started) {
      c.close();
      assertNothingLeft(c);
    }
  }

  private void assertNothingLeft(Container c) throws IOException {
    Path root = tmp.toRealPath();
    assertThat(MountPoints.list()).as("mounts left").noneMatch(m -> m.startsWith(root));
    assertThat(Runc.locate().list()).as("runc containers left").doesNotContain(c.id());
    assertThat(Cgroups.existing(c.id())).as("cgroups left").isEmpty();
    assertThat(state.resolve(c.id())).as("state left").doesNotExist();
  }

  @Test
  void runsACommandAndReturnsItsOutputAndExitCode() throws Exception {
    Container c = start(ContainerSpec.of("sh", "-c", "echo hello; ls /; cat /etc/motd; echo oops >&2; exit 3"));
    String out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(c.stderr().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(c.waitFor()).isEqualTo(3);
    assertThat(out).startsWith("hello\n").contains("bin\n", "etc\n", "proc\n").endsWith("welcome to the image\n");
    assertThat(err).isEqualTo("oops\n");
    c.close();
    assertNothingLeft(c);
  }

  @Test
  void writesLandInTheUpperDirectoryNotInTheImage() throws Exception {
    Path upper = tmp.resolve("upper");
    Container c = start(ContainerSpec.of("sh", "-c",
        "echo new > /new.txt; echo changed > /etc/motd; rm /bin/ls; cat /etc/motd").withUpperDir(upper));
    assertThat(new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("changed\n");
    assertThat(c.waitFor()).isZero();
    c.close();
    assertNothingLeft(c);
    assertThat(upper.resolve("new.txt")).hasContent("new");
    assertThat(upper.resolve("etc/motd")).hasContent("changed");
    // overlayfs records a deletion as a whiteout: a character device 0/0 in the upper layer
    int mode = (Integer) Files.getAttribute(upper.resolve("bin/ls"), "unix:mode", LinkOption.NOFOLLOW_LINKS);
    assertThat(mode & 0170000).isEqualTo(0020000);
    assertThat(new String(image.read(image.require("etc/motd")), StandardCharsets.UTF_8)).isEqualTo("welcome to the image\n");
    assertThat(image.lookup("new.txt")).isEmpty();
    assertThat(image.lookup("bin/ls")).isPresent();
  }

  @Test
  void memoryAndPidsLimitsAreInTheContainersCgroup() throws Exception {
    Container c = start(ContainerSpec.of("sh", "-c", "cat /sys/fs/cgroup/pids/pids.max; echo started; read x; exit 0")
        .withMemory(64L << 20).withPids(32));
    BufferedReader out = new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).as("pids.max seen inside").isEqualTo("32");
    assertThat(out.readLine()).isEqualTo("started");
    // While it runs, from outside: the explicit cgroupsPath in each hierarchy.
    Path pids = Cgroups.ROOT.resolve("pids").resolve(c.cgroupsPath().substring(1));
    Path memory = Cgroups.ROOT.resolve("memory").resolve(c.cgroupsPath().substring(1));
    assertThat(Cgroups.existing(c.id())).contains(pids, memory);
    assertThat(Files.readString(pids.resolve("pids.max")).strip()).isEqualTo("32");
    assertThat(Files.readString(memory.resolve("memory.limit_in_bytes")).strip()).isEqualTo(String.valueOf(64L << 20));
    assertThat(Files.readAllLines(pids.resolve("cgroup.procs"))).isNotEmpty();
    c.stdin().write("go\n".getBytes(StandardCharsets.UTF_8));
    c.stdin().close();
    assertThat(c.waitFor()).isZero();
  }

  @Test
  void closeKillsARunningContainerAndCleansUp() throws Exception {
    Container c = start(ContainerSpec.of("sh", "-c", "echo started; read x"));
    assertThat(new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8)).readLine()).isEqualTo("started");
    assertThat(c.isRunning()).isTrue();
    assertThat(Runc.locate().list()).contains(c.id());
    c.close();
    assertThat(c.isRunning()).isFalse();
    assertNothingLeft(c);
  }

  @Test
  void containersOfAKilledOwnerAreReapedByTheNextRuntime() throws Exception {
    Container c = start(ContainerSpec.of("sh", "-c", "echo started; read x"));
    assertThat(new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8)).readLine()).isEqualTo("started");
    // As if the owning JVM had been SIGKILLed: its owner record names a process that has ended.
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    new Owner(gone.pid(), gone.info().startInstant().orElse(java.time.Instant.EPOCH)).write(new Layout(state.resolve(c.id())).owner());
    Container alive = start(ContainerSpec.of("sh", "-c", "exit 0")); // reaps first
    assertThat(alive.waitFor()).isZero();
    alive.close();
    assertNothingLeft(c);
    assertThat(c.isRunning()).isFalse();
    assertThat(new ContainerRuntime(state).reap()).isEmpty();
  }

  @Test
  void theTraceListsWhatTheContainerOpenedInOrder() throws Exception {
    Path trace = tmp.resolve("trace.jsonl");
    Container c = start(ContainerSpec.of("sh", "-c", "cat /etc/motd"), MountOptions.defaults().withTrace(trace));
    assertThat(new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("welcome to the image\n");
    assertThat(c.waitFor()).isZero();
    c.close(); // the trace is complete once the mount is gone
    List<String> paths = new ArrayList<>();
    for (String line : Files.readAllLines(trace)) {
      paths.add(OciConfig.JSON.readTree(line).get("path").asText());
    }
    // the shell's binary is opened (exec) before the file cat reads; each once
    assertThat(paths).containsExactly("/bin/busybox", "/etc/motd");
  }

  @Test
  void aMissingCommandFailsWithRuncsMessageAndCleansUp() throws Exception {
    Container c = start(ContainerSpec.of("/no/such/command"));
    String err = new String(c.stderr().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(c.waitFor()).isNotZero();
    assertThat(err).contains("/no/such/command").contains("no such file or directory");
    c.close();
    assertNothingLeft(c);
  }
}
