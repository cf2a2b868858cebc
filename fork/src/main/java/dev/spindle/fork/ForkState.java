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
 * SandboxState, "working_set": [page, …]}}. The working set is the pages the parent wrote since its
 * last snapshot or fork (its private pages, in page order): the child fetches them in the
 * background, as they are the ones the parent was using.
 *
 * <p>The module is named by the state's SHA-256 only: a node that has it uses its own copy, one
 * that lacks it asks the parent's page service under the descriptor's capability (no second
 * secret), else the fallback store, and checks it against the hash. Version 1 carried the module
 * inside ({@code module_base64}), which cost every fork the module's size (188 KiB of a 64 MiB C
 * guest's descriptor; ~20 MB for CRuby) and every resume its decoding and hashing; it is still read
 * ({@code module} is null otherwise).
 */
record ForkState(
    SandboxState sandbox,
    byte[] module,
    int[] workingSet,
    java.util.Map<Integer, java.util.List<String>> privateDirs,
    String filesCommit,
    java.util.Map<Integer, String> privateTrees) {
  /** The most directories a private preopen may carry (what a node creates for a child). */
  static final int MAX_PRIVATE_DIRS = 1024;

  ForkState(SandboxState sandbox, byte[] module, int[] workingSet) {
    this(sandbox, module, workingSet, java.util.Map.of());
  }

  ForkState(
      SandboxState sandbox,
      byte[] module,
      int[] workingSet,
      java.util.Map<Integer, java.util.List<String>> privateDirs) {
    this(sandbox, module, workingSet, privateDirs, null, java.util.Map.of());
  }

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
    if (!privateDirs.isEmpty()) {
      var pd = o.putArray("private_dirs");
      privateDirs.forEach(
          (preopen, dirs) -> {
            var e = pd.addObject();
            e.put("preopen", preopen);
            var d = e.putArray("dirs");
            dirs.forEach(d::add);
          });
    }
    if (filesCommit != null) {
      // The files: a commit in the parent's files.git, and the tree of each private preopen.
      o.put("files_commit", filesCommit);
      var pt = o.putObject("private_trees");
      privateTrees.forEach((preopen, tree) -> pt.put(Integer.toString(preopen), tree));
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

  /**
   * @throws SnapshotDamagedException naming the field when the bytes are not such a state
   */
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
        throw top.damaged(
            "module_base64",
            "hashes to " + actual + ", not the state's module " + state.moduleSha256());
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
    java.util.Map<Integer, java.util.List<String>> privateDirs = new java.util.TreeMap<>();
    JsonNode pd = o.get("private_dirs");
    if (pd != null) {
      if (!pd.isArray() || pd.size() > state.wasi().preopens().size()) {
        throw top.damaged("private_dirs", "is not an array of at most one entry per preopen");
      }
      for (int i = 0; i < pd.size(); i++) {
        String at = "private_dirs[" + i + "]";
        JsonNode e = pd.get(i);
        JsonNode p = e.get("preopen");
        JsonNode d = e.get("dirs");
        if (p == null
            || !p.canConvertToInt()
            || p.asInt() < 0
            || p.asInt() >= state.wasi().preopens().size()
            || privateDirs.containsKey(p.asInt())) {
          throw top.damaged(at + ".preopen", "names no preopen, or one named before");
        }
        if (d == null || !d.isArray() || d.size() > MAX_PRIVATE_DIRS) {
          throw top.damaged(
              at + ".dirs", "is not an array of at most " + MAX_PRIVATE_DIRS + " directories");
        }
        java.util.List<String> dirs = new java.util.ArrayList<>();
        for (int k = 0; k < d.size(); k++) {
          if (!d.get(k).isTextual()) {
            throw top.damaged(at + ".dirs[" + k + "]", "is not a string");
          }
          dirs.add(d.get(k).asText());
        }
        privateDirs.put(p.asInt(), dirs);
      }
    }
    String filesCommit = null;
    java.util.Map<Integer, String> privateTrees = new java.util.TreeMap<>();
    if (o.has("files_commit")) {
      filesCommit = top.text("files_commit");
      if (!filesCommit.matches("[0-9a-f]{40}")) {
        throw top.damaged("files_commit", "is not a Git object id (40 hex digits)");
      }
      JsonNode pt = o.get("private_trees");
      if (pt == null || !pt.isObject() || pt.size() > state.wasi().preopens().size()) {
        throw top.damaged("private_trees", "is not an object of at most one tree per preopen");
      }
      for (var e : pt.properties()) {
        String at = "private_trees." + e.getKey();
        int preopen;
        try {
          preopen = Integer.parseInt(e.getKey());
        } catch (NumberFormatException x) {
          throw top.damaged(at, "names no preopen");
        }
        if (preopen < 0 || preopen >= state.wasi().preopens().size()) {
          throw top.damaged(at, "names no preopen");
        }
        if (!e.getValue().isTextual() || !e.getValue().asText().matches("[0-9a-f]{40}")) {
          throw top.damaged(at, "is not a Git object id (40 hex digits)");
        }
        privateTrees.put(preopen, e.getValue().asText());
      }
    }
    return new ForkState(state, module, workingSet, privateDirs, filesCommit, privateTrees);
  }
}
