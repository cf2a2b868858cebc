package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerSpecTest {
  private static final UserNamespace USERNS = new UserNamespace(100000, 100000);

  @Test
  void sizesParseLikeDocker() {
    assertThat(ContainerSpec.parseSize("4096")).isEqualTo(4096);
    assertThat(ContainerSpec.parseSize("64m")).isEqualTo(64L << 20);
    assertThat(ContainerSpec.parseSize("64MB")).isEqualTo(64L << 20);
    assertThat(ContainerSpec.parseSize("2g")).isEqualTo(2L << 30);
    assertThat(ContainerSpec.parseSize("512k")).isEqualTo(512L << 10);
    // The same syntax as every other size of the CLI (run --max-memory, --max-output).
    assertThat(ContainerSpec.parseSize("256MiB")).isEqualTo(256L << 20);
    assertThat(ContainerSpec.parseSize("1 GiB")).isEqualTo(1L << 30);
    assertThat(ContainerSpec.parseSize("100b")).isEqualTo(100);
    for (String bad :
        List.of("", "m", "-1m", "0", "1.5g", "12x", "99999999999999g", "1kk", "5tb")) {
      assertThatThrownBy(() -> ContainerSpec.parseSize(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(bad);
    }
  }

  @Test
  void specRefusesWhatRuncWouldRefuseLater() {
    assertThatThrownBy(() -> ContainerSpec.of(List.of())).hasMessageContaining("no command");
    assertThatThrownBy(() -> ContainerSpec.of("sh").withCwd("tmp"))
        .hasMessageContaining("absolute");
    assertThatThrownBy(() -> ContainerSpec.of("sh").withPids(-1)).hasMessageContaining("negative");
  }

  @Test
  void configCarriesCommandLimitsNamespacesAndCgroupsPath() {
    ContainerSpec spec =
        ContainerSpec.of("sh", "-c", "true")
            .withCwd("/tmp")
            .withMemory(1 << 20)
            .withPids(7)
            .withEnv(List.of("A=b"));
    JsonNode c = OciConfig.of(spec, "rootfs", "/spindle/x", USERNS);
    assertThat(c.at("/process/args").toString()).isEqualTo("[\"sh\",\"-c\",\"true\"]");
    assertThat(c.at("/process/env/0").asText()).isEqualTo("A=b");
    assertThat(c.at("/process/cwd").asText()).isEqualTo("/tmp");
    assertThat(c.at("/process/terminal").asBoolean()).isFalse();
    assertThat(c.at("/root/path").asText()).isEqualTo("rootfs");
    assertThat(c.at("/linux/resources/memory/limit").asLong()).isEqualTo(1 << 20);
    assertThat(c.at("/linux/resources/pids/limit").asLong()).isEqualTo(7);
    assertThat(c.at("/linux/cgroupsPath").asText()).isEqualTo("/spindle/x");
    assertThat(c.at("/linux/namespaces").findValuesAsText("type"))
        .containsExactlyInAnyOrder("pid", "network", "ipc", "uts", "mount", "user");
    assertThat(c.at("/mounts").findValuesAsText("destination")).contains("/proc", "/dev", "/sys");
    JsonNode unlimited = OciConfig.of(ContainerSpec.of("sh"), "rootfs", "/spindle/y", USERNS);
    assertThat(unlimited.at("/linux/resources").has("memory")).isFalse();
    assertThat(unlimited.at("/linux/resources").has("pids")).isFalse();
  }

  @Test
  void byDefaultRootIsAnUnprivilegedHostUserWithFewCapabilitiesAndSeccomp() {
    JsonNode c =
        OciConfig.of(
            ContainerSpec.of("sh"), "rootfs", "/spindle/x", new UserNamespace(200000, 300000));
    assertThat(c.at("/linux/uidMappings").toString())
        .isEqualTo("[{\"containerID\":0,\"hostID\":200000,\"size\":65536}]");
    assertThat(c.at("/linux/gidMappings").toString())
        .isEqualTo("[{\"containerID\":0,\"hostID\":300000,\"size\":65536}]");
    for (String set : List.of("bounding", "effective", "permitted")) {
      assertThat(texts(c.at("/process/capabilities/" + set)))
          .as(set)
          .contains("CAP_CHOWN", "CAP_SETUID", "CAP_KILL")
          .doesNotContain(
              "CAP_SYS_ADMIN",
              "CAP_DAC_READ_SEARCH",
              "CAP_MKNOD",
              "CAP_NET_RAW",
              "CAP_SETFCAP",
              "CAP_SYS_PTRACE",
              "CAP_NET_ADMIN",
              "CAP_SYS_MODULE");
    }
    assertThat(c.at("/process/noNewPrivileges").asBoolean()).isTrue();
    assertThat(texts(c.at("/linux/maskedPaths")))
        .contains("/proc/kcore", "/proc/keys", "/sys/firmware");
    assertThat(texts(c.at("/linux/readonlyPaths"))).contains("/proc/sys", "/proc/sysrq-trigger");
    JsonNode seccomp = c.at("/linux/seccomp");
    assertThat(seccomp.at("/defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
    assertThat(texts(seccomp.at("/architectures"))).contains("SCMP_ARCH_X86_64");
    List<String> allowed = new ArrayList<>();
    for (JsonNode rule : seccomp.at("/syscalls")) {
      if (rule.at("/action").asText().equals("SCMP_ACT_ALLOW") && !rule.has("args")) {
        allowed.addAll(texts(rule.at("/names")));
      }
    }
    assertThat(allowed)
        .contains("read", "write", "execve", "openat", "futex", "chroot")
        .doesNotContain(
            "mount",
            "umount2",
            "unshare",
            "setns",
            "pivot_root",
            "keyctl",
            "bpf",
            "init_module",
            "open_by_handle_at",
            "kexec_load",
            "reboot",
            "swapon",
            "clone",
            "clone3");
  }

  @Test
  void privilegedRootHasNoUserNamespaceButKeepsSeccomp() {
    ContainerSpec spec = ContainerSpec.of("sh").withPrivilegedRoot(true);
    JsonNode c = OciConfig.of(spec, "rootfs", "/spindle/x", null);
    assertThat(c.at("/linux/namespaces").findValuesAsText("type")).doesNotContain("user");
    assertThat(c.at("/linux").has("uidMappings")).isFalse();
    assertThat(texts(c.at("/process/capabilities/effective")))
        .contains("CAP_MKNOD")
        .doesNotContain("CAP_SYS_ADMIN");
    assertThat(c.at("/linux/seccomp/defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
    assertThat(c.at("/process/noNewPrivileges").asBoolean()).isTrue();
    assertThatThrownBy(() -> OciConfig.of(spec, "rootfs", "/spindle/x", USERNS))
        .hasMessageContaining("privileged");
    assertThatThrownBy(() -> OciConfig.of(ContainerSpec.of("sh"), "rootfs", "/spindle/x", null))
        .hasMessageContaining("privileged");
    assertThatThrownBy(
            () -> OciConfig.of(ContainerSpec.of("sh").withUser(70000, 0), "rootfs", "/s/x", USERNS))
        .hasMessageContaining("outside the container's user namespace");
  }

  @Test
  void theHostRangeIsRootsFromSubuidElseTheDefault(@TempDir Path tmp) throws Exception {
    Path subuid = tmp.resolve("subuid");
    assertThat(UserNamespace.firstRange(subuid)).isEqualTo(UserNamespace.DEFAULT_HOST_ID);
    Files.writeString(
        subuid, "alice:100000:65536\nroot:0:65536\nroot:300000:1000\n0:x:y\nroot:400000:65536\n");
    assertThat(UserNamespace.firstRange(subuid)).isEqualTo(400000);
    Files.writeString(subuid, "alice:100000:65536\n");
    assertThat(UserNamespace.firstRange(subuid)).isEqualTo(UserNamespace.DEFAULT_HOST_ID);
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
