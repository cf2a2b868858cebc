package dev.spindle.container;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.stream.Stream;

/**
 * The OCI runtime config ({@code config.json}, runtime-spec 1.0) of a Spindle container: what
 * {@code runc spec} writes, minus the terminal, plus the spec's command, limits and an explicit
 * cgroups path (so cleanup knows which cgroup directories are ours), and hardened as Docker and
 * Podman run containers: a user namespace (container root is an unprivileged host user, see {@link
 * UserNamespace}), few capabilities, no-new-privileges, a seccomp allowlist, masked and read-only
 * /proc and /sys paths.
 */
final class OciConfig {
  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Docker's default capability set minus MKNOD (a device node is what a container must not make:
   * the overlay is nodev, runc bind-mounts the few devices it needs), NET_RAW (packet spoofing; the
   * network namespace has only loopback) and SETFCAP (file capabilities are a way to keep
   * privileges past exec). What is left lets package managers and init scripts chown, change user
   * and read any file of the container; in a user namespace it acts on the container's own ids
   * only. Nothing grants administration (no SYS_ADMIN, DAC_READ_SEARCH, NET_ADMIN, SYS_PTRACE,
   * SYS_MODULE).
   */
  private static final List<String> CAPABILITIES =
      List.of(
          "CAP_AUDIT_WRITE",
          "CAP_KILL",
          "CAP_NET_BIND_SERVICE",
          "CAP_CHOWN",
          "CAP_DAC_OVERRIDE",
          "CAP_FOWNER",
          "CAP_FSETID",
          "CAP_SETGID",
          "CAP_SETUID",
          "CAP_SETPCAP",
          "CAP_SYS_CHROOT");

  /**
   * With {@link ContainerSpec#privilegedRoot()}: Docker's full default set, what this runtime gave
   * every container before user namespaces; real root asked for it explicitly.
   */
  private static final List<String> PRIVILEGED_CAPABILITIES =
      Stream.concat(CAPABILITIES.stream(), Stream.of("CAP_MKNOD", "CAP_NET_RAW", "CAP_SETFCAP"))
          .toList();

  /**
   * Moby's default seccomp profile for x86_64 as it applies without CAP_SYS_ADMIN and the other
   * capabilities it gates on (only chroot's CAP_SYS_CHROOT is granted): syscalls outside the
   * allowlist fail with EPERM; clone may not make namespaces; clone3, whose flags seccomp cannot
   * see, fails with ENOSYS so libc falls back to clone. Names this libseccomp does not know are
   * skipped by runc.
   */
  private static final String SECCOMP = "seccomp.json";

  private OciConfig() {}

  /**
   * The config for {@code spec} with its root file system at {@code rootfs}; {@code userns}: the
   * user namespace to run in, null exactly when the spec asks for privileged root.
   */
  static ObjectNode of(
      ContainerSpec spec, String rootfs, String cgroupsPath, UserNamespace userns) {
    if (spec.privilegedRoot() != (userns == null)) {
      throw new IllegalArgumentException(
          "a user namespace is required unless the spec asks for privileged root");
    }
    if (userns != null && (spec.uid() >= UserNamespace.SIZE || spec.gid() >= UserNamespace.SIZE)) {
      throw new IllegalArgumentException(
          "user "
              + spec.uid()
              + ":"
              + spec.gid()
              + " is outside the container's user namespace (ids 0.."
              + (UserNamespace.SIZE - 1)
              + ")");
    }
    ObjectNode c = JSON.createObjectNode();
    c.put("ociVersion", "1.0.2");
    ObjectNode p = c.putObject("process");
    p.put("terminal", false);
    p.putObject("user").put("uid", spec.uid()).put("gid", spec.gid());
    strings(p.putArray("args"), spec.args());
    strings(p.putArray("env"), spec.env());
    p.put("cwd", spec.cwd());
    ObjectNode caps = p.putObject("capabilities");
    for (String set : List.of("bounding", "effective", "permitted")) {
      strings(caps.putArray(set), userns == null ? PRIVILEGED_CAPABILITIES : CAPABILITIES);
    }
    p.putArray("rlimits")
        .addObject()
        .put("type", "RLIMIT_NOFILE")
        .put("hard", 1024)
        .put("soft", 1024);
    p.put("noNewPrivileges", true);
    c.putObject("root").put("path", rootfs).put("readonly", false);
    c.put("hostname", spec.hostname());
    ArrayNode mounts = c.putArray("mounts");
    mount(mounts, "/proc", "proc", "proc");
    mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
    mount(
        mounts,
        "/dev/pts",
        "devpts",
        "devpts",
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
        "gid=5");
    mount(
        mounts,
        "/dev/shm",
        "tmpfs",
        "shm",
        "nosuid",
        "noexec",
        "nodev",
        "mode=1777",
        "size=65536k");
    mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
    mount(mounts, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
    // The container's own cgroups, read-only: a process can see its limits (pids.max ...).
    mount(
        mounts,
        "/sys/fs/cgroup",
        "cgroup",
        "cgroup",
        "nosuid",
        "noexec",
        "nodev",
        "relatime",
        "ro");
    ObjectNode linux = c.putObject("linux");
    ObjectNode res = linux.putObject("resources");
    res.putArray("devices").addObject().put("allow", false).put("access", "rwm");
    if (spec.memoryBytes() > 0) {
      res.putObject("memory").put("limit", spec.memoryBytes());
    }
    if (spec.pids() > 0) {
      res.putObject("pids").put("limit", spec.pids());
    }
    linux.put("cgroupsPath", cgroupsPath);
    ArrayNode ns = linux.putArray("namespaces");
    for (String type : List.of("pid", "network", "ipc", "uts", "mount")) {
      ns.addObject().put("type", type);
    }
    if (userns != null) {
      ns.addObject().put("type", "user");
      linux
          .putArray("uidMappings")
          .addObject()
          .put("containerID", 0)
          .put("hostID", userns.hostUid())
          .put("size", UserNamespace.SIZE);
      linux
          .putArray("gidMappings")
          .addObject()
          .put("containerID", 0)
          .put("hostID", userns.hostGid())
          .put("size", UserNamespace.SIZE);
    }
    linux.set("seccomp", seccomp());
    // runc spec's lists; plus, as Docker, powercap (RAPL energy counters leak what other
    // processes compute, CVE-2020-8694).
    strings(
        linux.putArray("maskedPaths"),
        List.of(
            "/proc/acpi",
            "/proc/asound",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/sys/firmware",
            "/proc/scsi",
            "/sys/devices/virtual/powercap"));
    strings(
        linux.putArray("readonlyPaths"),
        List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
    return c;
  }

  /** A fresh copy each time: the caller may change its config. */
  static ObjectNode seccomp() {
    try (InputStream in = OciConfig.class.getResourceAsStream(SECCOMP)) {
      if (in == null) {
        throw new IllegalStateException("resource " + SECCOMP + " is missing from the build");
      }
      return (ObjectNode) JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the seccomp profile " + SECCOMP, e);
    }
  }

  private static void mount(
      ArrayNode mounts, String dest, String type, String source, String... options) {
    ObjectNode m =
        mounts.addObject().put("destination", dest).put("type", type).put("source", source);
    if (options.length > 0) {
      strings(m.putArray("options"), List.of(options));
    }
  }

  private static void strings(ArrayNode a, List<String> values) {
    values.forEach(a::add);
  }
}
