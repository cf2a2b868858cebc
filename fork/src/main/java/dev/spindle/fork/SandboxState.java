package dev.spindle.fork;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.sandbox.InstanceState;
import dev.spindle.sandbox.wasi.WasiState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A sandbox's state apart from its memory, and its JSON shape: the {@code sandbox} field of a
 * snapshot's {@code state.json}, version {@value #VERSION}:
 *
 * <pre>
 * { "version": 1, "module_sha256": hex, "image_root": hex | null,
 *   "globals": [{"index", "type_id", "low", "high"}],   defined mutable globals
 *   "tables": [{"index", "refs": [function index | -1]}],
 *   "dropped_elements": [int],
 *   "wasi": { "args": [str], "env": ["K=V"], "preopens": [{"guest_path", "host_path"}],
 *             "fds": [{"fd", "kind", "preopen", "path", "preopened", "rights_base",
 *                      "rights_inheriting", "fd_flags", "offset"}],
 *             "realtime_offset_nanos", "monotonic_nanos", "random_state" } }
 * </pre>
 *
 * A missing or mistyped field is refused naming its path ({@code sandbox.wasi.fds[3].offset}).
 */
record SandboxState(String moduleSha256, String imageRoot, InstanceState instance, WasiState wasi) {
  static final int VERSION = 1;
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  ObjectNode toJson() {
    ObjectNode s = JSON.objectNode();
    s.put("version", VERSION);
    s.put("module_sha256", moduleSha256);
    s.put("image_root", imageRoot);
    ArrayNode globals = s.putArray("globals");
    for (InstanceState.Global g : instance.globals()) {
      globals
          .addObject()
          .put("index", g.index())
          .put("type_id", g.typeId())
          .put("low", g.low())
          .put("high", g.high());
    }
    ArrayNode tables = s.putArray("tables");
    for (InstanceState.Table t : instance.tables()) {
      ObjectNode o = tables.addObject().put("index", t.index());
      ArrayNode refs = o.putArray("refs");
      for (int r : t.refs()) {
        refs.add(r);
      }
    }
    ArrayNode dropped = s.putArray("dropped_elements");
    instance.droppedElements().forEach(dropped::add);
    s.set("wasi", wasiJson(wasi));
    return s;
  }

  private static ObjectNode wasiJson(WasiState w) {
    ObjectNode o = JSON.objectNode();
    ArrayNode args = o.putArray("args");
    w.args().forEach(args::add);
    ArrayNode env = o.putArray("env");
    w.env().forEach(env::add);
    ArrayNode preopens = o.putArray("preopens");
    for (WasiState.Preopen p : w.preopens()) {
      preopens
          .addObject()
          .put("guest_path", p.guestPath())
          .put("host_path", p.hostPath().toString());
    }
    ArrayNode fds = o.putArray("fds");
    for (WasiState.Fd fd : w.fds()) {
      fds.addObject()
          .put("fd", fd.fd())
          .put("kind", fd.kind().name().toLowerCase(Locale.ROOT))
          .put("preopen", fd.preopen())
          .put("path", fd.path())
          .put("preopened", fd.preopened())
          .put("rights_base", fd.rightsBase())
          .put("rights_inheriting", fd.rightsInheriting())
          .put("fd_flags", fd.fdFlags())
          .put("offset", fd.offset());
    }
    o.put("realtime_offset_nanos", w.realtimeOffsetNanos());
    o.put("monotonic_nanos", w.monotonicNanos());
    o.put("random_state", w.randomState());
    return o;
  }

  /** Reads the {@code sandbox} field of {@code state} (read from {@code file}). */
  static SandboxState fromJson(Path file, JsonNode state) {
    JsonFields s = new JsonFields(file, "", state).object("sandbox");
    int version = s.intValue("version");
    if (version != VERSION) {
      throw s.damaged("sandbox.version", "is " + version + " (this Spindle reads " + VERSION + ")");
    }
    String module = s.text("module_sha256");
    if (!module.matches("[0-9a-f]{64}")) {
      throw s.damaged("sandbox.module_sha256", "is not a SHA-256 in hex: " + module);
    }
    List<InstanceState.Global> globals = new ArrayList<>();
    for (JsonFields.Element e : s.array("globals")) {
      JsonFields g = e.object();
      globals.add(
          new InstanceState.Global(
              g.intValue("index"),
              g.longValue("type_id"),
              g.longValue("low"),
              g.longValue("high")));
    }
    List<InstanceState.Table> tables = new ArrayList<>();
    for (JsonFields.Element e : s.array("tables")) {
      JsonFields t = e.object();
      List<JsonFields.Element> refs = t.array("refs");
      int[] values = new int[refs.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = refs.get(i).intValue();
      }
      tables.add(new InstanceState.Table(t.intValue("index"), values));
    }
    List<Integer> dropped = new ArrayList<>();
    for (JsonFields.Element e : s.array("dropped_elements")) {
      dropped.add(e.intValue());
    }
    return new SandboxState(
        module,
        s.optionalText("image_root"),
        new InstanceState(globals, tables, dropped),
        wasi(s.object("wasi")));
  }

  private static WasiState wasi(JsonFields w) {
    List<String> args = new ArrayList<>();
    w.array("args").forEach(e -> args.add(e.text()));
    List<String> env = new ArrayList<>();
    w.array("env").forEach(e -> env.add(e.text()));
    List<WasiState.Preopen> preopens = new ArrayList<>();
    for (JsonFields.Element e : w.array("preopens")) {
      JsonFields p = e.object();
      Path host;
      try {
        host = Path.of(p.text("host_path"));
      } catch (java.nio.file.InvalidPathException bad) {
        throw p.damaged(e.path + ".host_path", "is not a path: " + bad.getMessage());
      }
      preopens.add(new WasiState.Preopen(p.text("guest_path"), host));
    }
    List<WasiState.Fd> fds = new ArrayList<>();
    for (JsonFields.Element e : w.array("fds")) {
      JsonFields f = e.object();
      String kind = f.text("kind");
      WasiState.Kind k;
      try {
        k = WasiState.Kind.valueOf(kind.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException bad) {
        throw f.damaged(e.path + ".kind", "is not a descriptor kind: " + kind);
      }
      int preopen = f.intValue("preopen");
      if (preopen < -1 || preopen >= preopens.size()) {
        throw f.damaged(e.path + ".preopen", "names no preopen: " + preopen);
      }
      fds.add(
          new WasiState.Fd(
              f.intValue("fd"),
              k,
              preopen,
              f.text("path"),
              f.bool("preopened"),
              f.longValue("rights_base"),
              f.longValue("rights_inheriting"),
              f.intValue("fd_flags"),
              f.longValue("offset")));
    }
    return new WasiState(
        args,
        env,
        preopens,
        fds,
        w.longValue("realtime_offset_nanos"),
        w.longValue("monotonic_nanos"),
        w.longValue("random_state"));
  }
}
