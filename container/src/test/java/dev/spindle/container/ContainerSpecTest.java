package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContainerSpecTest {
  @Test
  void sizesParseLikeDocker() {
    assertThat(ContainerSpec.parseSize("4096")).isEqualTo(4096);
    assertThat(ContainerSpec.parseSize("64m")).isEqualTo(64L << 20);
    assertThat(ContainerSpec.parseSize("64MB")).isEqualTo(64L << 20);
    assertThat(ContainerSpec.parseSize("2g")).isEqualTo(2L << 30);
    assertThat(ContainerSpec.parseSize("512k")).isEqualTo(512L << 10);
    for (String bad : List.of("", "m", "-1m", "0", "1.5g", "12x", "99999999999999g")) {
      assertThatThrownBy(() -> ContainerSpec.parseSize(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bad);
    }
  }

  @Test
  void specRefusesWhatRuncWouldRefuseLater() {
    assertThatThrownBy(() -> ContainerSpec.of(List.of())).hasMessageContaining("no command");
    assertThatThrownBy(() -> ContainerSpec.of("sh").withCwd("tmp")).hasMessageContaining("absolute");
    assertThatThrownBy(() -> ContainerSpec.of("sh").withPids(-1)).hasMessageContaining("negative");
  }

  @Test
  void configCarriesCommandLimitsNamespacesAndCgroupsPath() {
    ContainerSpec spec = ContainerSpec.of("sh", "-c", "true").withCwd("/tmp").withMemory(1 << 20).withPids(7)
        .withEnv(List.of("A=b"));
    JsonNode c = OciConfig.of(spec, "rootfs", "/spindle/x");
    assertThat(c.at("/process/args").toString()).isEqualTo("[\"sh\",\"-c\",\"true\"]");
    assertThat(c.at("/process/env/0").asText()).isEqualTo("A=b");
    assertThat(c.at("/process/cwd").asText()).isEqualTo("/tmp");
    assertThat(c.at("/process/terminal").asBoolean()).isFalse();
    assertThat(c.at("/root/path").asText()).isEqualTo("rootfs");
    assertThat(c.at("/linux/resources/memory/limit").asLong()).isEqualTo(1 << 20);
    assertThat(c.at("/linux/resources/pids/limit").asLong()).isEqualTo(7);
    assertThat(c.at("/linux/cgroupsPath").asText()).isEqualTo("/spindle/x");
    assertThat(c.at("/linux/namespaces").findValuesAsText("type"))
        .containsExactlyInAnyOrder("pid", "network", "ipc", "uts", "mount");
    assertThat(c.at("/mounts").findValuesAsText("destination")).contains("/proc", "/dev", "/sys");
    JsonNode unlimited = OciConfig.of(ContainerSpec.of("sh"), "rootfs", "/spindle/y");
    assertThat(unlimited.at("/linux/resources").has("memory")).isFalse();
    assertThat(unlimited.at("/linux/resources").has("pids")).isFalse();
  }
}
