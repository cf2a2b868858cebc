package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.sandbox.InstanceState;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.wasi.WasiState;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.Guests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code sandbox} field of state.json: round trip, and damage named by field path. */
class SandboxStateTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path FILE = Path.of("/snap/state.json");
  @TempDir Path tmp;

  static SandboxState sample() {
    InstanceState instance =
        new InstanceState(
            List.of(
                new InstanceState.Global(0, 0x7f, 65536, 0),
                new InstanceState.Global(3, 0x7e, -5, 0)),
            List.of(new InstanceState.Table(0, new int[] {-1, 4, 7})),
            List.of(2));
    WasiState wasi =
        new WasiState(
            List.of("guest", "a b"),
            List.of("K=V"),
            List.of(new WasiState.Preopen("/data", Path.of("/host/data"))),
            List.of(
                new WasiState.Fd(0, WasiState.Kind.STDIN, -1, "", false, 1, 0, 0, 0),
                new WasiState.Fd(5, WasiState.Kind.FILE, 0, "dir/f.txt", false, 2, 3, 1, 1234)),
            -7,
            99,
            Long.MIN_VALUE);
    return new SandboxState("ab".repeat(32), null, instance, wasi);
  }

  static ObjectNode stateJson() {
    ObjectNode top = JSON.createObjectNode();
    top.set("sandbox", sample().toJson());
    return top;
  }

  @Test
  void roundTripsThroughJsonText() throws Exception {
    JsonNode parsed = JSON.readTree(JSON.writeValueAsString(stateJson()));
    assertThat(SandboxState.fromJson(FILE, parsed)).isEqualTo(sample());
  }

  private static void assertDamaged(Consumer<ObjectNode> damage, String message) {
    ObjectNode s = stateJson();
    damage.accept((ObjectNode) s.get("sandbox"));
    assertThatThrownBy(() -> SandboxState.fromJson(FILE, s))
        .isInstanceOf(SnapshotDamagedException.class)
        .hasMessageStartingWith(FILE.toString())
        .hasMessageContaining(message);
  }

  @Test
  void badOrMissingFieldsAreNamedByTheirPath() {
    assertThatThrownBy(() -> SandboxState.fromJson(FILE, JSON.createObjectNode()))
        .hasMessageContaining("field sandbox is missing");
    assertDamaged(s -> s.put("version", 2), "field sandbox.version is 2 (this Spindle reads 1)");
    assertDamaged(s -> s.remove("module_sha256"), "field sandbox.module_sha256 is missing");
    assertDamaged(
        s -> s.put("module_sha256", "xyz"), "field sandbox.module_sha256 is not a SHA-256");
    assertDamaged(
        s -> ((ObjectNode) s.get("globals").get(1)).put("low", "five"),
        "field sandbox.globals[1].low is not a 64-bit integer");
    assertDamaged(
        s ->
            ((ArrayNode) s.get("tables").get(0).get("refs"))
                .set(1, JSON.getNodeFactory().textNode("f")),
        "field sandbox.tables[0].refs[1] is not a 32-bit integer");
    assertDamaged(
        s -> ((ObjectNode) s.get("wasi")).remove("random_state"),
        "field sandbox.wasi.random_state is missing");
    assertDamaged(
        s -> ((ObjectNode) s.get("wasi").get("fds").get(1)).put("kind", "socket"),
        "field sandbox.wasi.fds[1].kind is not a descriptor kind: socket");
    assertDamaged(
        s -> ((ObjectNode) s.get("wasi").get("fds").get(1)).put("preopen", 4),
        "field sandbox.wasi.fds[1].preopen names no preopen: 4");
    assertDamaged(
        s -> ((ObjectNode) s.get("wasi").get("preopens").get(0)).put("host_path", "a\0b"),
        "field sandbox.wasi.preopens[0].host_path is not a path");
    assertDamaged(
        s -> ((ObjectNode) s.get("wasi")).put("args", "guest"),
        "field sandbox.wasi.args is not an array");
  }

  /**
   * Fuzzes the reader: every node of a valid state in turn is removed, nulled or replaced by a
   * value of another type (plus random multi-node damage); the reader either accepts the result or
   * refuses it with a {@link SnapshotDamagedException} naming a field, never anything else.
   */
  @Test
  void damagedStatesAreRefusedOnlyWithANamedFieldError() {
    java.util.Random r = new java.util.Random(7);
    JsonNode[] replacements = {
      JSON.getNodeFactory().nullNode(),
      JSON.getNodeFactory().textNode("x"),
      JSON.getNodeFactory().numberNode(1.5),
      JSON.getNodeFactory().numberNode(Long.MAX_VALUE),
      JSON.getNodeFactory().booleanNode(true),
      JSON.createObjectNode(),
      JSON.createArrayNode(),
      JSON.getNodeFactory().numberNode(-2)
    };
    int refused = 0;
    for (int round = 0; round < 3000; round++) {
      ObjectNode s = stateJson();
      int damages = 1 + (round % 3);
      for (int d = 0; d < damages; d++) {
        List<JsonNode> containers = new java.util.ArrayList<>();
        collect(s.get("sandbox"), containers);
        JsonNode c = containers.get(r.nextInt(containers.size()));
        JsonNode with = replacements[r.nextInt(replacements.length)];
        if (c instanceof ObjectNode o && o.size() > 0) {
          List<String> names = new java.util.ArrayList<>();
          o.fieldNames().forEachRemaining(names::add);
          String field = names.get(r.nextInt(names.size()));
          if (r.nextBoolean()) {
            o.remove(field);
          } else {
            o.set(field, with);
          }
        } else if (c instanceof ArrayNode a && a.size() > 0) {
          a.set(r.nextInt(a.size()), with);
        }
      }
      try {
        SandboxState.fromJson(FILE, s);
      } catch (SnapshotDamagedException e) {
        assertThat(e.getMessage()).startsWith(FILE + ": field sandbox");
        refused++;
      }
    }
    assertThat(refused).isGreaterThan(2000);
  }

  private static void collect(JsonNode n, List<JsonNode> out) {
    if (n.isContainerNode()) {
      out.add(n);
      n.forEach(child -> collect(child, out));
    }
  }

  @Test
  void openingADamagedSnapshotNamesTheField() throws Exception {
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest g = forks.start(BranchTest.sandbox(dev.spindle.sandbox.Engine.COMPILED))) {
      forks.snapshot(g, Tag.of("s"), SnapshotMode.FULL);
      Path state = forks.store().directory(Tag.of("s")).resolve("state.json");
      ObjectNode json = (ObjectNode) JSON.readTree(state.toFile());
      ((ObjectNode) json.get("sandbox").get("wasi")).remove("monotonic_nanos");
      Files.write(state, JSON.writeValueAsBytes(json));
      try (Forks restarted = new Forks(new SpindleHome(tmp))) {
        assertThatThrownBy(() -> restarted.open(Tag.of("s")))
            .isInstanceOf(SnapshotDamagedException.class)
            .hasMessageContaining(state + ": field sandbox.wasi.monotonic_nanos is missing");
      }
    }
  }

  @Test
  void aSandboxWithoutPagedMemoryIsRefusedSayingHowToFixIt() throws Exception {
    try (Forks forks = new Forks(new SpindleHome(tmp))) {
      Sandbox plain =
          Sandbox.builder(Guests.bytes(Guests.reactor("warm")))
              .memoryFactory(com.dylibso.chicory.runtime.ByteArrayMemory::new)
              .build();
      assertThatThrownBy(() -> forks.start(plain))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("memoryFactory(PagedMemory::new)");
    }
  }
}
