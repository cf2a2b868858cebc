package dev.spindle.sandbox.ruby;

import com.dylibso.chicory.runtime.Memory;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.SandboxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * CRuby from npm ({@code @ruby/3.4-wasm-wasi}) in a sandbox. That module is a reactor whose exports
 * speak the component model's canonical ABI (strings and lists in linear memory, allocated by the
 * guest's {@code cabi_realloc}), driven here as the package's own JavaScript driver does: {@code
 * _initialize}, {@code ruby-init(args)}, then {@code rb-eval-string-protect}.
 */
public final class RubyVm implements AutoCloseable {
  /** The npm package version the tests and benchmarks install ({@code sandbox/NPM-PACKAGES}). */
  public static final String NPM_PACKAGE = "@ruby/3.4-wasm-wasi";

  private static final String INIT = "ruby-init: func(args: list<string>) -> ()";
  private static final String EVAL =
      "rb-eval-string-protect: func(str: string) -> tuple<handle<rb-abi-value>, s32>";

  private final Reactor reactor;

  private RubyVm(Reactor reactor) {
    this.reactor = reactor;
  }

  /**
   * The module with the standard library packed in ({@code ruby+stdlib.wasm}) under an npm prefix,
   * e.g. {@code ~/.cache/spindle/guests/npm}.
   */
  public static Path wasm(Path npmPrefix) {
    return npmPrefix.resolve("node_modules").resolve(NPM_PACKAGE).resolve("dist/ruby+stdlib.wasm");
  }

  /**
   * Starts the reactor and initialises the VM with command-line {@code args} (the first is the
   * program name, as in {@code ["ruby", "-EUTF-8", "-e_=0"]}, the JavaScript driver's default).
   */
  public static RubyVm start(Sandbox sandbox, List<String> args) {
    Reactor reactor = sandbox.startReactor();
    try {
      return init(reactor, args);
    } catch (RuntimeException e) {
      reactor.close();
      throw e;
    }
  }

  /** Initialises the VM in a started reactor (e.g. one started by the fork module to snapshot). */
  public static RubyVm init(Reactor reactor, List<String> args) {
    RubyVm vm = new RubyVm(reactor);
    vm.init(args);
    return vm;
  }

  /**
   * A VM that is already initialised, with whatever it loaded: a branch of a snapshot of a warm
   * interpreter. Nothing runs again; the next {@link #eval} sees the snapshot's Ruby state.
   */
  public static RubyVm attach(Reactor reactor) {
    return new RubyVm(reactor);
  }

  private void init(List<String> args) {
    int list = alloc(8 * args.size(), 4);
    for (int i = 0; i < args.size(); i++) {
      long string = string(args.get(i) + "\0"); // the guest hands these to C as char*
      memory().writeI32(list + 8 * i, (int) string);
      memory().writeI32(list + 8 * i + 4, (int) (string >>> 32));
    }
    reactor.call(INIT, list, args.size());
  }

  /**
   * Evaluates Ruby source; its output goes to the sandbox's stdout and stderr.
   *
   * @throws SandboxException if Ruby raised (the exception is reported on stderr by Ruby)
   */
  public void eval(String code) {
    long string = string(code + "\0");
    int ret = (int) reactor.call(EVAL, (int) string, (int) (string >>> 32))[0];
    int state = memory().readInt(ret + 4);
    if (state != 0) {
      throw new SandboxException("Ruby code raised (state " + state + ")", null);
    }
  }

  public Reactor reactor() {
    return reactor;
  }

  /** Copies {@code s} into guest memory as UTF-8; returns pointer (low) and length (high). */
  private long string(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    int ptr = alloc(bytes.length, 1);
    memory().write(ptr, bytes);
    return (ptr & 0xFFFF_FFFFL) | ((long) bytes.length << 32);
  }

  private int alloc(int size, int align) {
    return (int) reactor.call("cabi_realloc", 0, 0, align, size)[0];
  }

  private Memory memory() {
    return reactor.memory();
  }

  @Override
  public void close() {
    reactor.close();
  }
}
