package dev.spindle.container;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The OCI runtime config ({@code config.json}, runtime-spec 1.0) of a Spindle container: what
 * {@code runc spec} writes, minus the terminal, plus the spec's command, limits and an explicit
 * cgroups path (so cleanup knows which cgroup directories are ours).
 */
final class OciConfig {
  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Docker's default capability set: runc spec's three (AUDIT_WRITE, KILL, NET_BIND_SERVICE)
   * are too few for package managers and init scripts (chown, setuid), and nothing here grants
   * administration of the host (no SYS_ADMIN, NET_ADMIN, SYS_PTRACE).
   */
  private static final List<String> CAPABILITIES =
      List.of("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_DAC_OVERRIDE",
          "CAP_FOWNER", "CAP_FSETID", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_SYS_CHROOT",
          "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETFCAP");

  private OciConfig() {}

  static ObjectNode of(ContainerSpec spec, String rootfs, String cgroupsPath) {
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
      strings(caps.putArray(set), CAPABILITIES);
    }
    p.putArray("rlimits").addObject().put("type", "RLIMIT_NOFILE").put("hard", 1024).put("soft", 1024);
    p.put("noNewPrivileges", true);
    c.putObject("root").put("path", rootfs).put("readonly", false);
    c.put("hostname", spec.hostname());
    ArrayNode mounts = c.putArray("mounts");
    mount(mounts, "/proc", "proc", "proc");
    mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
    mount(mounts, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5");
    mount(mounts, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k");
    mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
    mount(mounts, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
    // The container's own cgroups, read-only: a process can see its limits (pids.max ...).
    mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro");
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
    strings(linux.putArray("maskedPaths"), List.of("/proc/acpi", "/proc/asound", "/proc/kcore",
        "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
        "/proc/sched_debug", "/sys/firmware", "/proc/scsi"));
    strings(linux.putArray("readonlyPaths"), List.of("/proc/bus", "/proc/fs", "/proc/irq",
        "/proc/sys", "/proc/sysrq-trigger"));
    return c;
  }

  private static void mount(ArrayNode mounts, String dest, String type, String source, String... options) {
    ObjectNode m = mounts.addObject().put("destination", dest).put("type", type).put("source", source);
    if (options.length > 0) {
      strings(m.putArray("options"), List.of(options));
    }
  }

  private static void strings(ArrayNode a, List<String> values) {
    values.forEach(a::add);
  }
}
