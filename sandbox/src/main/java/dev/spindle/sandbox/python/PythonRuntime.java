package dev.spindle.sandbox.python;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.FunctionType;
import com.dylibso.chicory.wasm.types.ValType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.SandboxBuilder;
import dev.spindle.sandbox.SandboxException;
import dev.spindle.store.Hashes;
import dev.spindle.store.SpindleCache;
import io.trino.wasm.python.Python;
import io.trino.wasm.python.PythonMachine;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * CPython 3.13 in a sandbox: {@code io.trino:trino-wasm-python}, a wasm32-wasip1 build with its
 * standard library packed into the module and already initialised (Wizer), whose code Chicory
 * compiled to JVM classes at build time. Driven through the module's exports as its own host
 * (pyhost.c) expects: {@code setup} imports module {@code guest} from {@code /guest} (Spindle's
 * {@code guest.py}) and looks up {@code run}; each {@link #eval} passes the source through {@code
 * execute} and gets back one JSON string. Python's state (the namespace evals share) is guest
 * memory, so a runtime snapshotted and branched by the fork module carries it to every child.
 */
public final class PythonRuntime implements AutoCloseable {
  /** The Maven artifact this runtime runs (also in the root pom). */
  public static final String ARTIFACT = "io.trino:trino-wasm-python:3.13-6";

  // Type ids and layouts of pyhost.h: little-endian i32 ids; a ROW is followed by its field count.
  private static final int ROW = 0;
  private static final int INTEGER = 5;
  private static final int VARCHAR = 11;
  private static final String GUEST_FUNCTION = "run";

  /** Bits of guest.py's {@code run(code, filename, cap, flags)}. */
  private static final int RESEED = 1;

  private static final int STREAM = 2;

  /**
   * The most namespaces an interpreter keeps apart (guest.py's flags carry the number from bit 8).
   */
  public static final int MAX_NAMESPACES = 1 << 16;

  private static final int DEFAULT_OUTPUT_CAP = 16 << 20;

  /** Errors the host reported through {@code trino.return_error}, by the instance's memory. */
  private static final Map<Memory, String> HOST_ERRORS =
      Collections.synchronizedMap(new WeakHashMap<>());

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Reactor reactor;
  private int outputCap = DEFAULT_OUTPUT_CAP;
  private int evals;
  /*
   * A guest buffer for execute's argument, kept between evals (grown when too small) so that an
   * eval is two guest calls (execute, deallocate of the result) instead of four: each call is a
   * hand-off to a guest thread. A branched child starts without one (its parent's stays
   * allocated in the child's copy of the heap: one small block).
   */
  private int argsPtr;
  private int argsCapacity;

  /** Whether the next eval reseeds {@code random} first ({@link #reseed}). */
  private boolean reseedPending;

  private PythonRuntime(Reactor reactor) {
    this.reactor = reactor;
  }

  /** The module's bytes and parsed form, loaded once per JVM (30 MB; parsing takes ~0.5 s). */
  private static final class Module {
    static final byte[] BYTES = metaBytes();
    static final WasmModule PARSED = parse(BYTES);

    private static byte[] metaBytes() {
      try (InputStream in = Python.class.getResourceAsStream("Python.meta")) {
        if (in == null) {
          throw new IllegalStateException("Python.meta missing from " + ARTIFACT);
        }
        return in.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /*
     * Without validation: the bytes come from the jar whose classes run them (the machine was
     * compiled from this module), so validating adds no trust, and it is most of the parse.
     */
    private static WasmModule parse(byte[] bytes) {
      return Parser.builder()
          .withValidation(false)
          .build()
          .parse(() -> new ByteArrayInputStream(bytes));
    }
  }

  static WasmModule parsedModule() {
    return Module.PARSED;
  }

  /** The module's bytes (a copy): what names it in snapshots and the module store. */
  public static byte[] moduleBytes() {
    return Module.BYTES.clone();
  }

  /**
   * A sandbox builder for CPython: the precompiled module, the host's error callback, {@code
   * guest.py} preopened at {@code /guest} (fd 3, where the host imports it from; written once under
   * {@code $SPINDLE_CACHE/python}, else {@code ~/.cache/spindle/python}) and no bytecode files
   * written there. Add limits, more preopens and streams as for any sandbox.
   */
  public static SandboxBuilder sandbox() {
    return sandbox(defaultGuestRoot());
  }

  /** As {@link #sandbox()}, with {@code guest.py} kept under {@code guestRoot}. */
  public static SandboxBuilder sandbox(Path guestRoot) {
    Path guestDir;
    try {
      guestDir = guestDir(guestRoot);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write guest.py under " + guestRoot, e);
    }
    return builder("/guest", guestDir);
  }

  /**
   * A sandbox builder for CPython whose whole file tree is the host directory {@code root}
   * (preopened at {@code /}, fd 3), not {@code /guest} alone: what the node gives each Python
   * sandbox as its private writable files. {@code guest.py} is written into {@code root} for {@link
   * #setupAtRoot} to import and remove. Why this is not one more preopen: the module was
   * pre-initialised (Wizer) with {@code /guest} at fd 3, so wasi-libc's table of preopens is frozen
   * in its memory with that one entry, and a preopen added now is never looked up.
   */
  public static SandboxBuilder sandboxAtRoot(Path root) {
    try {
      Files.write(root.resolve(GUEST_FILE), GuestFile.BYTES);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write guest.py into " + root, e);
    }
    return builder("/", root);
  }

  /** CPython's builder with one preopen, {@code dir} at {@code guestPath} (fd 3). */
  private static SandboxBuilder builder(String guestPath, Path dir) {
    // The builder copies the bytes; preparing uses the module parsed once per JVM instead.
    return Sandbox.builder(Module.BYTES)
        .argv0("python")
        .precompiled(Module.PARSED, PythonMachine::new)
        .hostFunctions(returnError())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .preopen(guestPath, dir);
  }

  /**
   * Sets up an interpreter of {@link #sandboxAtRoot}: {@code guest} is imported from {@code
   * /guest/guest.py} (wasi-libc maps the prefix {@code guest} to fd 3, whose host directory is
   * {@code root}), then the prefix in wasi-libc's table is made empty, so that every absolute path
   * resolves below fd 3, as for a preopen at {@code /}; {@code guest.py} is removed from {@code
   * root}.
   *
   * @throws SandboxException if the table's entry is not where this build of the module keeps it
   */
  public static PythonRuntime setupAtRoot(Reactor reactor, Path root) {
    PythonRuntime py = setup(reactor);
    int patched = PreopenTable.rootAtFd3(reactor.memory());
    if (patched == 0) {
      throw new SandboxException(
          "cannot find wasi-libc's preopen entry for fd 3 ('guest') in "
              + ARTIFACT
              + ": the module's layout is not the one this runtime knows",
          null);
    }
    try {
      Files.delete(root.resolve(GUEST_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove guest.py from " + root, e);
    }
    return py;
  }

  private static final String GUEST_FILE = "guest.py";

  /** Spindle's {@code guest.py}, read once. */
  private static final class GuestFile {
    static final byte[] BYTES = read();
    static final String SHA256 = Hashes.sha256Hex(BYTES);

    private static byte[] read() {
      try (InputStream in = PythonRuntime.class.getResourceAsStream("guest.py")) {
        return in.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * The SHA-256 (hex) of Spindle's {@code guest.py}: with the module's, what a warm interpreter
   * depends on (its code is imported into the interpreter's memory at setup), so a snapshot of one
   * is valid only for the same pair.
   */
  public static String guestSha256() {
    return GuestFile.SHA256;
  }

  private static Path defaultGuestRoot() {
    return SpindleCache.root().resolve("python");
  }

  /**
   * {@code guest.py} in a directory named by its hash, so a snapshot's preopen keeps pointing at
   * the same bytes across restarts and a changed guest.py never replaces one in use.
   */
  private static Path guestDir(Path root) throws IOException {
    byte[] guest = GuestFile.BYTES;
    Path dir = root.resolve(guestSha256().substring(0, 16));
    Path file = dir.resolve("guest.py");
    if (!Files.exists(file) || !java.util.Arrays.equals(Files.readAllBytes(file), guest)) {
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "guest", ".tmp");
      Files.write(tmp, guest);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    return dir;
  }

  /*
   * pyhost.c reports a failure it cannot encode in a result (e.g. MemoryError while building
   * one) through this import and then returns 0 from execute. One function serves every
   * instance of the sandbox, branches included, so the message is kept by the caller's memory.
   */
  static HostFunction returnError() {
    FunctionType type =
        FunctionType.of(
            List.of(ValType.I32, ValType.I32, ValType.I32, ValType.I32, ValType.I32), List.of());
    return new HostFunction(
        "trino",
        "return_error",
        type,
        (instance, args) -> {
          Memory m = instance.memory();
          String message = m.readString((int) args[1], (int) args[2]);
          String traceback = args[4] == 0 ? "" : m.readString((int) args[3], (int) args[4]);
          HOST_ERRORS.put(
              m,
              "error code "
                  + args[0]
                  + ": "
                  + message
                  + (traceback.isEmpty() ? "" : "\n" + traceback));
          return null;
        });
  }

  /** Starts a sandbox built from {@link #sandbox()} and sets the interpreter up. */
  public static PythonRuntime start(Sandbox sandbox) {
    Reactor reactor = sandbox.startReactor();
    try {
      return setup(reactor);
    } catch (RuntimeException e) {
      reactor.close();
      throw e;
    }
  }

  /**
   * Sets the interpreter up in a started reactor (e.g. one the fork module started in order to
   * snapshot it): imports {@code guest} and binds {@code run}. Only once per interpreter.
   */
  public static PythonRuntime setup(Reactor reactor) {
    PythonRuntime py = new PythonRuntime(reactor);
    py.setup();
    return py;
  }

  /**
   * An interpreter that is already set up, with whatever state it has: a branch of a snapshot of a
   * warm runtime. Nothing runs again; the next {@link #eval} sees the snapshot's namespace.
   */
  public static PythonRuntime attach(Reactor reactor) {
    return new PythonRuntime(reactor);
  }

  private void setup() {
    // setup keeps the two type pointers for every later execute: they are never freed.
    byte[] name = (GUEST_FUNCTION + "\0").getBytes(StandardCharsets.US_ASCII);
    byte[] argType = ints(ROW, 4, VARCHAR, VARCHAR, INTEGER, INTEGER);
    byte[] retType = ints(VARCHAR);
    int namePtr = copyIn(name);
    try {
      reactor.call("setup", namePtr, copyIn(argType), copyIn(retType));
    } catch (SandboxException e) {
      // pyhost.c prints the Python error and calls exit(1) when guest.py cannot be imported.
      String err = new String(reactor.stderr(), StandardCharsets.UTF_8);
      throw new SandboxException(
          "Python setup failed: " + e.getMessage() + (err.isEmpty() ? "" : "\n" + err), e);
    }
    free(namePtr);
  }

  /**
   * Reseeds Python's {@code random} module, if imported, from the guest's random source, at the
   * start of the next {@link #eval} (in the same guest call: a reseed of its own cost a branch's
   * first eval twice as much). A branch has its own WASI random stream (the fork module reseeds
   * each child), but a {@code random} imported before the snapshot holds the parent's generator
   * state, which every child would otherwise repeat draw for draw. Call it on each branch before
   * its first eval. Not reseeded: the string-hash secret, fixed when the module was pre-initialised
   * (Wizer) and shared by every Python sandbox; CPython cannot change it in a running interpreter.
   */
  public void reseed() {
    reseedPending = true;
  }

  /** The most UTF-8 bytes kept per stream per eval (default 16 MiB); more ends the eval. */
  public PythonRuntime outputCap(int bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("outputCap must be >= 0");
    }
    outputCap = bytes;
    return this;
  }

  /** How many evals this runtime object has made (names the next cell). */
  public int evals() {
    return evals;
  }

  /** Evaluates {@code code} as a cell named {@code <cell N>} in tracebacks. */
  public EvalResult eval(String code) {
    return eval(code, "<cell " + (evals + 1) + ">");
  }

  /**
   * Evaluates {@code code} in the runtime's namespace, as {@code filename} in tracebacks. A Python
   * exception is a result, not a Java exception.
   *
   * @throws dev.spindle.sandbox.SandboxLimitException if the eval hit the sandbox's timeout or
   *     memory limit; the runtime is dead then (its memory may be mid-update)
   * @throws SandboxException if the interpreter failed outside Python code
   */
  public EvalResult eval(String code, String filename) {
    return eval(code, filename, 0, false);
  }

  /**
   * As {@link #eval(String, String)}, in namespace {@code namespace} (0 is the one every other eval
   * uses; each other number is its own, made empty on first use, as a notebook's contexts are) and,
   * with {@code stream}, with {@code sys.stdout} and {@code sys.stderr} written through to the
   * guest's WASI stdout and stderr as the code writes them, for a caller that reads them meanwhile
   * ({@link Reactor#takeStdout()}); the result's streams are empty then.
   */
  public EvalResult eval(String code, String filename, int namespace, boolean stream) {
    if (namespace < 0 || namespace >= MAX_NAMESPACES) {
      throw new IllegalArgumentException(
          "namespace must be 0.." + (MAX_NAMESPACES - 1) + ", got " + namespace);
    }
    evals++;
    byte[] src = code.getBytes(StandardCharsets.UTF_8);
    byte[] file = filename.getBytes(StandardCharsets.UTF_8);
    // A ROW(VARCHAR, VARCHAR, INTEGER, INTEGER) value: a presence byte before the row and each
    // field.
    ByteBuffer args =
        ByteBuffer.allocate(1 + 5 + src.length + 5 + file.length + 5 + 5)
            .order(ByteOrder.LITTLE_ENDIAN);
    args.put((byte) 1);
    args.put((byte) 1).putInt(src.length).put(src);
    args.put((byte) 1).putInt(file.length).put(file);
    args.put((byte) 1).putInt(outputCap);
    args.put((byte) 1)
        .putInt((reseedPending ? RESEED : 0) | (stream ? STREAM : 0) | namespace << 8);
    reseedPending = false;
    int result = (int) reactor.call("execute", argsBuffer(args.array()))[0];
    if (result == 0) {
      String error = HOST_ERRORS.remove(memory());
      throw new SandboxException(
          "the Python host failed: " + (error == null ? "no error reported" : error), null);
    }
    String json;
    try {
      // [i32 length][presence byte][i32 VARCHAR length][UTF-8]
      if (memory().read(result + 4) == 0) {
        throw new SandboxException("guest.py returned None", null);
      }
      int length = memory().readInt(result + 5);
      json = new String(memory().readBytes(result + 9, length), StandardCharsets.UTF_8);
    } finally {
      free(result);
    }
    return parse(json);
  }

  private static EvalResult parse(String json) {
    try {
      JsonNode n = JSON.readTree(json);
      JsonNode e = n.get("error");
      EvalResult.Error error =
          e == null || e.isNull()
              ? null
              : new EvalResult.Error(
                  e.get("type").asText(), e.get("message").asText(), e.get("traceback").asText());
      JsonNode value = n.get("value");
      return new EvalResult(
          n.get("stdout").asText(),
          n.get("stderr").asText(),
          value == null || value.isNull() ? null : value.asText(),
          error);
    } catch (IOException | RuntimeException e) {
      throw new SandboxException(
          "guest.py answered something other than its JSON: " + e.getMessage(), e);
    }
  }

  private int argsBuffer(byte[] bytes) {
    if (bytes.length > argsCapacity) {
      if (argsPtr != 0) {
        free(argsPtr);
      }
      int capacity = Math.max(bytes.length, 4096);
      argsPtr = (int) reactor.call("allocate", capacity)[0];
      argsCapacity = capacity;
    }
    memory().write(argsPtr, bytes);
    return argsPtr;
  }

  private static byte[] ints(int... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putInt(v);
    }
    return b.array();
  }

  private int copyIn(byte[] bytes) {
    int ptr = (int) reactor.call("allocate", bytes.length)[0];
    memory().write(ptr, bytes);
    return ptr;
  }

  private void free(int ptr) {
    reactor.call("deallocate", ptr);
  }

  private Memory memory() {
    return reactor.memory();
  }

  public Reactor reactor() {
    return reactor;
  }

  @Override
  public void close() {
    reactor.close();
  }
}
