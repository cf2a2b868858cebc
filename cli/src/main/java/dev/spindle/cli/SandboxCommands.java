package dev.spindle.cli;

import dev.spindle.client.Api;
import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.Limits;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.SpindleClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code spindle sandbox ...}: sandboxes on a node (a daemon), through the Java SDK. */
@Command(
    name = "sandbox",
    mixinStandardHelpOptions = true,
    description =
        "Start, call, read and end sandboxes on a Spindle node (default " + Api.DEFAULT_NODE + ").",
    subcommands = {
      SandboxCommands.Create.class,
      SandboxCommands.ListAll.class,
      SandboxCommands.CallExport.class,
      SandboxCommands.Eval.class,
      SandboxCommands.Output.class,
      SandboxCommands.Remove.class
    })
final class SandboxCommands {
  /** What every sandbox command takes: the home (for the token) and the node. */
  abstract static class Base implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Mixin NodeOptions node;

    SpindleClient client() throws IOException {
      return node.client(common.home(), node.node != null ? node.node : Api.DEFAULT_NODE);
    }
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description =
          "Start N sandboxes of a module: a .wasm file here, or IMAGE:PATH inside an image on the node; "
              + "or, with --runtime python, N CPython interpreters (branches of the node's warm one) for 'sandbox eval'.")
  static final class Create extends Base {
    @Parameters(index = "0", arity = "0..1", paramLabel = "WASM|IMAGE:PATH")
    String module;

    @Option(
        names = "--runtime",
        paramLabel = "RUNTIME",
        description = "wasm (default: run the module) or python.")
    String runtime;

    @Parameters(index = "1..*", paramLabel = "ARG", description = "Arguments of a command module.")
    List<String> args;

    @Option(
        names = "-n",
        defaultValue = "1",
        description = "How many (1..1000, default ${DEFAULT-VALUE}).")
    int n;

    @Mixin EnvOptions env;

    @Option(
        names = "--dir",
        paramLabel = "GUEST=SOURCE",
        description =
            "A directory for each sandbox (repeatable): GUEST=image:TAG (read-only), "
                + "GUEST=image:TAG:rw (a private writable layer over the image), GUEST=scratch (empty, private), "
                + "GUEST=volume:NAME (a host directory the node lends as NAME: shared, never copied). "
                + "Private ones snapshot and branch with the sandbox.")
    List<String> dirs = new java.util.ArrayList<>();

    @Mixin LimitOptions limits;

    /** {@code --dir} values as the API's directories. */
    static List<Api.Dir> dirs(List<String> given) {
      List<Api.Dir> out = new java.util.ArrayList<>();
      for (String d : given) {
        int eq = d.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException(
              "--dir: expected GUEST=image:TAG[:rw], GUEST=scratch or GUEST=volume:NAME: " + d);
        }
        String guest = d.substring(0, eq);
        String source = d.substring(eq + 1);
        if (source.equals("scratch")) {
          out.add(Api.Dir.scratch(guest));
        } else if (source.startsWith("volume:")) {
          out.add(Api.Dir.volume(guest, source.substring("volume:".length())));
        } else if (source.startsWith("image:") && source.endsWith(":rw")) {
          out.add(
              Api.Dir.writableImage(
                  guest, source.substring("image:".length(), source.length() - ":rw".length())));
        } else if (source.startsWith("image:")) {
          out.add(Api.Dir.image(guest, source.substring("image:".length())));
        } else {
          throw new IllegalArgumentException(
              "--dir "
                  + d
                  + ": the source is image:TAG[:rw], scratch or volume:NAME "
                  + "(a node takes no host paths)");
        }
      }
      return out;
    }

    @Override
    public Integer call() throws Exception {
      Limits limits = this.limits.api();
      if (runtime != null && !runtime.equals("wasm")) {
        if (module != null || args != null) {
          throw new IllegalArgumentException(
              "--runtime " + runtime + " takes no module or arguments");
        }
        for (SandboxInfo s :
            client()
                .createSandboxes(new CreateSandboxes(null, null, null, n, limits, null, runtime))) {
          System.out.println(s.id() + " " + s.runtime() + " " + s.status());
        }
        return 0;
      }
      if (module == null) {
        throw new IllegalArgumentException(
            "name a module (WASM or IMAGE:PATH), or give --runtime python");
      }
      Path file = Path.of(module);
      Wasm wasm;
      if (Files.isRegularFile(file)) {
        wasm = Wasm.bytes(Files.readAllBytes(file));
      } else if (module.contains(":")) {
        wasm =
            Wasm.inImage(
                module.substring(0, module.indexOf(':')),
                module.substring(module.indexOf(':') + 1));
      } else {
        throw new IllegalArgumentException(
            "no such file: " + module + " (or name a module in an image as IMAGE:PATH)");
      }
      CreateSandboxes req = new CreateSandboxes(wasm, args, env.map(), n, limits);
      if (!dirs.isEmpty()) {
        req = req.withDirs(dirs(dirs));
      }
      for (SandboxInfo s : client().createSandboxes(req)) {
        System.out.println(s.id() + " " + s.kind() + " " + s.status());
      }
      return 0;
    }
  }

  @Command(
      name = "ls",
      aliases = "list",
      mixinStandardHelpOptions = true,
      description = "List the node's sandboxes.")
  static final class ListAll extends Base {
    @Override
    public Integer call() throws Exception {
      for (SandboxInfo s : client().sandboxes()) {
        System.out.printf(
            "%-16s %-8s %-8s %s%n",
            s.id(),
            s.kind(),
            s.status(),
            s.exitCode() != null ? "exit " + s.exitCode() : s.error() != null ? s.error() : "");
      }
      return 0;
    }
  }

  @Command(
      name = "call",
      mixinStandardHelpOptions = true,
      description = "Call a reactor's export; prints its results.")
  static final class CallExport extends Base {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Parameters(index = "1", paramLabel = "EXPORT")
    String export;

    @Parameters(index = "2..*", paramLabel = "INT")
    long[] args = new long[0];

    @Override
    public Integer call() throws Exception {
      List<Long> r = client().call(id, export, args);
      System.out.println(String.join(" ", r.stream().map(String::valueOf).toList()));
      return 0;
    }
  }

  @Command(
      name = "eval",
      mixinStandardHelpOptions = true,
      description =
          "Evaluate Python code in a Python sandbox (its state persists between evals): prints what it "
              + "printed, then the value of its last expression; an exception's traceback goes to stderr and exits 1.")
  static final class Eval extends Base {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Parameters(
        index = "1",
        paramLabel = "CODE",
        description = "Python source; - reads it from stdin.")
    String code;

    @Override
    public Integer call() throws Exception {
      String src =
          "-".equals(code)
              ? new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
              : code;
      Api.EvalResult r = client().eval(id, src);
      System.out.print(r.stdout());
      System.err.print(r.stderr());
      if (r.value() != null) {
        System.out.println(r.value());
      }
      if (r.error() != null) {
        System.err.print(r.error().traceback());
        return 1;
      }
      return 0;
    }
  }

  @Command(
      name = "output",
      mixinStandardHelpOptions = true,
      description = "Print what a sandbox wrote (stdout, then stderr to stderr).")
  static final class Output extends Base {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Override
    public Integer call() throws Exception {
      Api.Output o = client().output(id);
      System.out.print(o.stdout());
      System.err.print(o.stderr());
      return 0;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true, description = "End sandboxes.")
  static final class Remove extends Base {
    @Parameters(paramLabel = "ID", arity = "1..*")
    List<String> ids;

    @Override
    public Integer call() throws Exception {
      SpindleClient c = client();
      for (String id : ids) {
        c.deleteSandbox(id);
        System.out.println("removed " + id);
      }
      return 0;
    }
  }
}
