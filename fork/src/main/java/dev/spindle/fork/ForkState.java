package dev.spindle.fork;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;

/**
 * The opaque state bytes of a remote-fork descriptor: {@code {"version": 2, "sandbox":
 * SandboxState, "working_set": [page, …]}}. The working set is the pages the parent wrote since
 * its last snapshot or fork (its private pages, in page order): the child fetches them in the
 * background, as they are the ones the parent was using.
 *
 * <p>The module is named by the state's SHA-256 only: a node that has it uses its own copy, one
 * that lacks it asks the parent's page service under the descriptor's capability (no second
 * secret), else the fallback store, and checks it against the hash. Version 1 carried the module
 * inside ({@code module_base64}), which cost every fork the module's size (188 KiB of a 64 MiB
 * C guest's descriptor; ~20 MB for CRuby) and every resume its decoding and hashing; it is still
 * read ({@code module} is null otherwise).
 */
record ForkState(SandboxState sandbox, byte[] module, int[] workingSet) {
  static final int VERSION = 2;
  /** Names the source in error messages, as a file path names a snapshot's state.json. */
  private static final Path SOURCE = Path.of("descriptor");
  private static final ObjectMapper JSON = new ObjectMapper();

  byte[] toBytes() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("version", VERSION);
    o.set("sandbox", sandbox.toJson());
    if (module != null) {
      o.put("module_base64", Base64.getEncoder().encodeToString(module));
    }
    var ws = o.putArray("working_set");
    for (int page : workingSet) {
      ws.add(page);
    }
    try {
      return JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** @throws SnapshotDamagedException naming the field when the bytes are not such a state */
  static ForkState fromBytes(byte[] bytes) {
    JsonNode o;
    try {
      o = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new SnapshotDamagedException(SOURCE + ": state is not JSON: " + e.getMessage());
    }
    if (o == null || !o.isObject()) {
      throw new SnapshotDamagedException(SOURCE + ": state is not a JSON object");
    }
    JsonFields top = new JsonFields(SOURCE, "", o);
    int version = top.intValue("version");
    if (version != 1 && version != VERSION) {
      throw top.damaged("version", "is " + version + " (this Spindle reads 1 and " + VERSION + ")");
    }
    SandboxState state = SandboxState.fromJson(SOURCE, o);
    byte[] module = null;
    if (version == 1 || o.has("module_base64")) {
      try {
        module = Base64.getDecoder().decode(top.text("module_base64"));
      } catch (IllegalArgumentException e) {
        throw top.damaged("module_base64", "is not base64: " + e.getMessage());
      }
      String actual = ModuleStore.sha256(module);
      if (!actual.equals(state.moduleSha256())) {
        throw top.damaged("module_base64", "hashes to " + actual + ", not the state's module " + state.moduleSha256());
      }
    }
    JsonNode ws = o.get("working_set");
    int[] workingSet = new int[0];
    if (ws != null) {
      if (!ws.isArray()) {
        throw top.damaged("working_set", "is not an array of page numbers");
      }
      workingSet = new int[ws.size()];
      for (int i = 0; i < ws.size(); i++) {
        if (!ws.get(i).canConvertToInt() || ws.get(i).asInt() < 0) {
          throw top.damaged("working_set[" + i + "]", "is not a page number: " + ws.get(i));
        }
        workingSet[i] = ws.get(i).asInt();
      }
    }
    return new ForkState(state, module, workingSet);
  }
}
