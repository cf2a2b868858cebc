package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.fuse.MountOptions;
import dev.spindle.fuse.MountPoints;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.testing.BusyboxRoot;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
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
@Requires({Tool.FUSE, Tool.BUSYBOX, Tool.RUNC})
class ContainerRuntimeTest {
  @TempDir static Path shared;
  static Path imageFile;
  static Image image;
  @TempDir Path tmp;
  Path state;
  ContainerRuntime runtime;
  final List<Container> started = new ArrayList<>();

  @BeforeAll
  static void makeBusyboxImage() throws IOException {
    Path root =
        BusyboxRoot.make(shared.resolve("rootfs"), "sh", "ls", "cat", "echo", "rm", "sleep");
    Files.writeString(
        Files.createDirectories(root.resolve("etc")).resolve("motd"), "welcome to the image\n");
    imageFile = shared.resolve("busybox.img");
    new ImageMaker(
            MakeOptions.defaults().withDate(OffsetDateTime.parse("2026-01-01T00:00:00Z")),
            Progress.NONE)
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
    // All closed before any check: a failed check must not leave the next one's mounts behind.
    for (Container c : started) {
      c.close();
    }
    for (Container c : started) {
      assertNothingLeft(c);
    }
  }

  private void assertNothingLeft(Container c) throws IOException {
    Path root = tmp.toRealPath();
    assertThat(MountPoints.list()).as("mounts left").noneMatch(m -> m.startsWith(root));
    assertThat(Runc.locate().list()).as("runc containers left").doesNotContain(c.id());
    assertThat(Cgroups.existing(c.id())).as("cgroups left").isEmpty();
    assertThat(state.resolve(c.id())).as("state left").doesNotExist();
    assertThat(MountPoints.list()).as("overlay left").doesNotContain(c.rootfs());
    assertThat(c.rootfs()).as("mount point left").doesNotExist();
  }

  /** Runs {@code spec} to its end; its stdout (stderr in the failure message). */
  private String output(ContainerSpec spec) throws Exception {
    Container c = start(spec);
    String out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(c.stderr().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(c.waitFor()).as("exit code; stderr: " + err).isZero();
    c.close();
    return out;
  }

  /** The value of {@code name:} in /proc/self/status lines. */
  private static String status(String out, String name) {
    return out.lines()
        .filter(l -> l.startsWith(name + ":"))
        .map(l -> l.substring(name.length() + 1).strip())
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in: " + out));
  }

  private static final int CAP_DAC_READ_SEARCH = 2;
  private static final int CAP_SYS_ADMIN = 21;
  private static final int CAP_MKNOD = 27;

  @Test
  void runsACommandAndReturnsItsOutputAndExitCode() throws Exception {
    Container c =
        start(
            ContainerSpec.of("sh", "-c", "echo hello; ls /; cat /etc/motd; echo oops >&2; exit 3"));
    String out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(c.stderr().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(c.waitFor()).isEqualTo(3);
    assertThat(out)
        .startsWith("hello\n")
        .contains("bin\n", "etc\n", "proc\n")
        .endsWith("welcome to the image\n");
    assertThat(err).isEqualTo("oops\n");
    c.close();
    assertNothingLeft(c);
  }

  @Test
  void writesLandInTheUpperDirectoryNotInTheImage() throws Exception {
    Path upper = tmp.resolve("upper");
    Container c =
        start(
            ContainerSpec.of(
                    "sh",
                    "-c",
                    "echo new > /new.txt; echo changed > /etc/motd; rm /bin/ls; cat /etc/motd")
                .withUpperDir(upper));
    assertThat(new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8))
        .isEqualTo("changed\n");
    assertThat(c.waitFor()).isZero();
    c.close();
    assertNothingLeft(c);
    assertThat(upper.resolve("new.txt")).hasContent("new");
    assertThat(upper.resolve("etc/motd")).hasContent("changed");
    // overlayfs records a deletion as a whiteout: a character device 0/0 in the upper layer
    int mode =
        (Integer)
            Files.getAttribute(upper.resolve("bin/ls"), "unix:mode", LinkOption.NOFOLLOW_LINKS);
    assertThat(mode & 0170000).isEqualTo(0020000);
    assertThat(new String(image.read(image.require("etc/motd")), StandardCharsets.UTF_8))
        .isEqualTo("welcome to the image\n");
    assertThat(image.lookup("new.txt")).isEmpty();
    assertThat(image.lookup("bin/ls")).isPresent();
  }

  @Test
  void memoryAndPidsLimitsAreInTheContainersCgroup() throws Exception {
    Container c =
        start(
            ContainerSpec.of(
                    "sh", "-c", "cat /sys/fs/cgroup/pids/pids.max; echo started; read x; exit 0")
                .withMemory(64L << 20)
                .withPids(32));
    BufferedReader out =
        new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).as("pids.max seen inside").isEqualTo("32");
    assertThat(out.readLine()).isEqualTo("started");
    // While it runs, from outside: the explicit cgroupsPath in each hierarchy.
    Path pids = Cgroups.ROOT.resolve("pids").resolve(c.cgroupsPath().substring(1));
    Path memory = Cgroups.ROOT.resolve("memory").resolve(c.cgroupsPath().substring(1));
    assertThat(Cgroups.existing(c.id())).contains(pids, memory);
    assertThat(Files.readString(pids.resolve("pids.max")).strip()).isEqualTo("32");
    assertThat(Files.readString(memory.resolve("memory.limit_in_bytes")).strip())
        .isEqualTo(String.valueOf(64L << 20));
    assertThat(Files.readAllLines(pids.resolve("cgroup.procs"))).isNotEmpty();
    c.stdin().write("go\n".getBytes(StandardCharsets.UTF_8));
    c.stdin().close();
    assertThat(c.waitFor()).isZero();
  }

  @Test
  void closeKillsARunningContainerAndCleansUp() throws Exception {
    Container c = start(ContainerSpec.of("sh", "-c", "echo started; read x"));
    assertThat(
            new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8))
                .readLine())
        .isEqualTo("started");
    assertThat(c.isRunning()).isTrue();
    assertThat(Runc.locate().list()).contains(c.id());
    c.close();
    assertThat(c.isRunning()).isFalse();
    assertNothingLeft(c);
  }

  @Test
  void containersOfAKilledOwnerAreReapedByTheNextRuntime() throws Exception {
    Container c = start(ContainerSpec.of("sh", "-c", "echo started; read x"));
    assertThat(
            new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8))
                .readLine())
        .isEqualTo("started");
    // As if the owning JVM had been SIGKILLed: its owner record names a process that has ended.
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    new Owner(gone.pid(), gone.info().startInstant().orElse(java.time.Instant.EPOCH))
        .write(new Layout(state.resolve(c.id())).owner());
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
    Container c =
        start(
            ContainerSpec.of("sh", "-c", "cat /etc/motd"),
            MountOptions.defaults().withTrace(trace));
    assertThat(new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8))
        .isEqualTo("welcome to the image\n");
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

  @Test
  void rootIsAnUnprivilegedHostUserUnderSeccompWithoutAdminCapabilities() throws Exception {
    String out =
        output(
            ContainerSpec.of(
                "sh",
                "-c",
                "cat /proc/self/uid_map;"
                    + " busybox grep -E '^(Seccomp|CapEff):' /proc/self/status;"
                    + " if busybox mknod /null c 1 3; then echo mknod: made; else echo mknod: refused; fi;"
                    + " echo owner: $(busybox stat -c '%u:%g' /etc/motd); echo whoami: $(busybox id -u)"));
    String[] map = out.lines().findFirst().orElseThrow().strip().split("\\s+");
    assertThat(String.join(" ", map)).as("uid_map").isNotEqualTo("0 0 4294967295");
    assertThat(map[0]).isEqualTo("0");
    assertThat(Long.parseLong(map[1]))
        .as("host uid of the container's root")
        .isPositive()
        .isEqualTo(UserNamespace.forRoot().hostUid());
    assertThat(map[2]).isEqualTo(String.valueOf(UserNamespace.SIZE));
    assertThat(status(out, "Seccomp")).as("seccomp mode (2: filter)").isEqualTo("2");
    long capEff = Long.parseUnsignedLong(status(out, "CapEff"), 16);
    assertThat(capEff & 1).as("CAP_CHOWN kept").isEqualTo(1);
    for (int cap : new int[] {CAP_SYS_ADMIN, CAP_MKNOD, CAP_DAC_READ_SEARCH}) {
      assertThat(capEff & (1L << cap))
          .as("capability " + cap + " in CapEff " + Long.toHexString(capEff))
          .isZero();
    }
    assertThat(status(out, "mknod")).isEqualTo("refused");
    assertThat(status(out, "owner"))
        .as("the image's files are the container root's")
        .isEqualTo("0:0");
    assertThat(status(out, "whoami")).isEqualTo("0");
  }

  @Test
  void anExecRunsInTheRunningContainerConfinedAsItsInitAndIsKilledWithWhatItStarted()
      throws Exception {
    Container c = start(ContainerSpec.of("sh", "-c", "echo ready; while read -r line; do :; done"));
    BufferedReader init =
        new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8));
    assertThat(init.readLine()).isEqualTo("ready");
    String out;
    try (Container.Exec x =
        c.exec(
            List.of(
                "sh",
                "-c",
                "cat /proc/self/uid_map; busybox grep -E "
                    + "'^(Seccomp|CapEff):' /proc/self/status; echo cwd: $(pwd); echo v: $V; echo oops >&2; exit 4"),
            List.of("V=given"),
            "/etc")) {
      out = new String(x.stdout().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(new String(x.stderr().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("oops\n");
      assertThat(x.waitFor()).isEqualTo(4);
    }
    String[] map = out.lines().findFirst().orElseThrow().strip().split("\\s+");
    assertThat(Long.parseLong(map[1]))
        .as("the init's user namespace")
        .isEqualTo(UserNamespace.forRoot().hostUid());
    assertThat(c.rootOwner())
        .containsExactly(UserNamespace.forRoot().hostUid(), UserNamespace.forRoot().hostGid());
    assertThat(status(out, "Seccomp")).isEqualTo("2");
    assertThat(Long.parseUnsignedLong(status(out, "CapEff"), 16) & (1L << CAP_SYS_ADMIN)).isZero();
    assertThat(status(out, "cwd")).isEqualTo("/etc");
    assertThat(status(out, "v")).isEqualTo("given");

    // SIGKILL reaches the process and what it started (the sleep holds the stdout pipe open).
    try (Container.Exec x =
        c.exec(List.of("sh", "-c", "sleep 1000 & echo started; wait"), List.of(), "/")) {
      BufferedReader r =
          new BufferedReader(new InputStreamReader(x.stdout(), StandardCharsets.UTF_8));
      assertThat(r.readLine()).isEqualTo("started");
      x.signal(true);
      assertThat(x.waitFor()).as("128 + SIGKILL").isEqualTo(137);
    }
    // Asked in the container itself: once the exec has exited the JDK drains and closes its pipe,
    // so the pipe cannot tell whether the sleep still holds it.
    assertThat(sleepersLeft(c)).as("what the killed exec started is killed with it").isEmpty();
    assertThat(c.isRunning()).as("the container runs on").isTrue();
  }

  /**
   * The pids of live {@code sleep} processes in {@code c}, asked until there are none (a SIGKILL
   * takes a moment to reach every process of the exec) or 50 times. A zombie does not count: the
   * killed sleep is reparented to the container's init, a shell that reaps it when it gets to it.
   */
  private static String sleepersLeft(Container c) throws Exception {
    String left = "";
    for (int i = 0; i < 50; i++) {
      try (Container.Exec p =
          c.exec(
              List.of(
                  "sh",
                  "-c",
                  "for p in /proc/[0-9]*; do read -r pid name state rest < $p/stat 2>/dev/null"
                      + " && [ \"$name\" = '(sleep)' ] && [ \"$state\" != Z ] && echo $pid;"
                      + " done; true"),
              List.of(),
              "/")) {
        left = new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor();
      }
      if (left.isEmpty()) {
        return left;
      }
      Thread.sleep(100);
    }
    return left;
  }

  @Test
  void aSetuidBinaryInAKeptUpperIsInertAndNotHostRoots() throws Exception {
    Path upper = tmp.resolve("upper");
    // busybox picks its applet by the name it is run as: /id runs the setuid copy as id.
    String out =
        output(
            ContainerSpec.of(
                    "sh",
                    "-c",
                    "cat /bin/busybox > /suid && busybox chmod 4755 /suid"
                        + " && busybox ln -s suid /id && echo mode: $(busybox stat -c %a /suid);"
                        + " echo root: $(busybox grep ' / / ' /proc/self/mountinfo)")
                .withUpperDir(upper));
    assertThat(status(out, "mode")).isEqualTo("4755");
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ...
    String[] root = status(out, "root").split(" ");
    assertThat(List.of(root[5].split(","))).as("options of / inside").contains("nosuid", "nodev");
    Path suid = upper.resolve("suid");
    assertThat((Integer) Files.getAttribute(suid, "unix:mode") & 04000)
        .as("setuid bit kept on the host")
        .isNotZero();
    assertThat(Files.getAttribute(suid, "unix:uid"))
        .as("owner on the host: the mapped root, not root")
        .isEqualTo(UserNamespace.forRoot().hostUid());
    // A later run over the same upper: an ordinary user runs it and stays who it is.
    assertThat(output(ContainerSpec.of("/id", "-u").withUpperDir(upper).withUser(1000, 1000)))
        .isEqualTo("1000\n");
  }

  @Test
  void privilegedRootIsHostRootStillUnderSeccomp() throws Exception {
    String out =
        output(
            ContainerSpec.of(
                    "sh",
                    "-c",
                    "cat /proc/self/uid_map;"
                        + " busybox grep -E '^(Seccomp|CapEff):' /proc/self/status")
                .withPrivilegedRoot(true));
    assertThat(String.join(" ", out.lines().findFirst().orElseThrow().strip().split("\\s+")))
        .isEqualTo("0 0 4294967295");
    assertThat(status(out, "Seccomp")).isEqualTo("2");
    assertThat(Long.parseUnsignedLong(status(out, "CapEff"), 16) & (1L << CAP_SYS_ADMIN)).isZero();
  }
}
