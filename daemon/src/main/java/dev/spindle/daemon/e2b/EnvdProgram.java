package dev.spindle.daemon.e2b;

import dev.spindle.sandbox.python.EvalResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a command line does in a Python sandbox, which has no shell and no processes: {@code
 * python}/{@code python3} with {@code -c CODE}, {@code -m MODULE} or {@code FILE} (run in the
 * sandbox's interpreter, in a namespace of their own, with {@code sys.argv}, the envs and the cwd
 * set for the run and put back after), and the built-ins {@code echo}, {@code pwd}, {@code ls},
 * {@code cat}, {@code mkdir} and {@code rm} over the same tree the files API uses. Anything else
 * exits 127 at once with a message on stderr, as bash does for a command it cannot find.
 */
final class EnvdProgram {
  /** The most output a built-in gives (cat of a large file); past it the command fails. */
  static final int MAX_OUTPUT = 16 << 20;

  static final List<String> BUILT_INS = List.of("echo", "pwd", "ls", "cat", "mkdir", "rm");
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** How a command ended: its output, exit code, and the error envd reports beside a failure. */
  record Outcome(byte[] stdout, byte[] stderr, int exitCode, String error) {
    static Outcome of(String stdout, String stderr, int exitCode) {
      return new Outcome(
          stdout.getBytes(StandardCharsets.UTF_8),
          stderr.getBytes(StandardCharsets.UTF_8),
          exitCode,
          exitCode == 0 ? null : "exit status " + exitCode);
    }
  }

  private final EnvdGuest guest;
  private final Optional<EnvdFiles> files;
  private final String cwd;
  private final Map<String, String> envs;

  EnvdProgram(EnvdGuest guest, Optional<EnvdFiles> files, String cwd, Map<String, String> envs) {
    this.guest = guest;
    this.files = files;
    this.cwd = cwd;
    this.envs = envs;
  }

  Outcome run(String line) {
    List<String> words;
    try {
      words = EnvdShell.words(line);
    } catch (EnvdShell.Unsupported e) {
      return Outcome.of("", "spindle: " + e.getMessage() + "\n", 2);
    }
    if (words.isEmpty()) {
      return Outcome.of("", "", 0);
    }
    String cmd = words.getFirst();
    List<String> args = words.subList(1, words.size());
    if (cmd.matches("[A-Za-z_][A-Za-z0-9_]*=.*")) {
      return Outcome.of(
          "",
          "spindle: a variable assignment before a command needs a shell; pass the variables "
              + "with the envs option instead\n",
          2);
    }
    return switch (cmd) {
      case "python",
          "python3",
          "python3.13",
          "/usr/bin/python",
          "/usr/bin/python3",
          "/usr/local/bin/python",
          "/usr/local/bin/python3" ->
          python(args);
      case "echo" -> echo(args);
      case "pwd" -> Outcome.of(cwd + "\n", "", 0);
      case "ls" -> ls(args);
      case "cat" -> cat(args);
      case "mkdir" -> mkdir(args);
      case "rm" -> rm(args);
      default ->
          Outcome.of(
              "",
              "spindle: "
                  + (cmd.length() > 64 ? cmd.substring(0, 64) + "..." : cmd)
                  + ": command not found. A Python sandbox runs 'python -c CODE', 'python -m MODULE', 'python FILE' and the "
                  + "built-ins "
                  + String.join(", ", BUILT_INS)
                  + "; other programs need a container sandbox\n",
              127);
    };
  }

  private Outcome python(List<String> args) {
    int i = 0;
    while (i < args.size() && List.of("-u", "-B", "-E", "-s", "-S", "-I").contains(args.get(i))) {
      i++; // no effect here: unbuffered, no bytecode files, no user site already
    }
    Map<String, Object> p = new LinkedHashMap<>();
    if (i >= args.size()) {
      return Outcome.of(
          "",
          "spindle: python needs -c CODE, -m MODULE or a FILE; there is no interactive "
              + "interpreter (use the code interpreter's runCode for a session)\n",
          2);
    }
    String a = args.get(i);
    List<String> argv = new ArrayList<>();
    if (a.equals("-c") || a.equals("-m")) {
      if (i + 1 >= args.size()) {
        return Outcome.of("", "python: argument expected for the " + a + " option\n", 2);
      }
      p.put("mode", a.substring(1));
      p.put("target", args.get(i + 1));
      argv.add(a.equals("-c") ? "-c" : args.get(i + 1));
      argv.addAll(args.subList(i + 2, args.size()));
    } else if (a.startsWith("-")) {
      return Outcome.of(
          "",
          "spindle: python option "
              + (a.length() > 16 ? a.substring(0, 16) : a)
              + " is not supported here (only -c, -m, -u, -B, -E, -s, -S, -I)\n",
          2);
    } else {
      p.put("mode", "file");
      String file = a.startsWith("/") ? a : cwd + "/" + a;
      p.put("target", file);
      argv.add(a);
      argv.addAll(args.subList(i + 1, args.size()));
    }
    p.put("argv", argv);
    p.put("envs", envs);
    p.put("cwd", cwd);
    String payload;
    try {
      payload = Base64.getEncoder().encodeToString(JSON.writeValueAsBytes(p));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    EvalResult r = guest.eval(runner(payload));
    return outcome(r);
  }

  /**
   * Runs the command in the interpreter without touching the sandbox's namespace: the program gets
   * a fresh {@code __main__} dict; argv, cwd and the envs are set around it and restored. The
   * request travels as base64 (no quoting to get wrong); the whole is one expression statement
   * whose value is None, so the eval has no value.
   */
  private static final String RUNNER_SOURCE =
      """
      import base64, json, os, runpy, sys
      p = json.loads(base64.b64decode(__spindle_request__).decode())
      argv0, cwd0, env0 = sys.argv, os.getcwd(), dict(os.environ)
      try:
          sys.argv = p['argv']
          os.environ.update(p['envs'])
          try:
              os.chdir(p['cwd'])
          except OSError:
              pass
          if p['mode'] == 'c':
              exec(compile(p['target'], '<string>', 'exec'), {'__name__': '__main__', '__builtins__': __builtins__})
          elif p['mode'] == 'm':
              runpy.run_module(p['target'], run_name='__main__', alter_sys=True)
          else:
              runpy.run_path(p['target'], run_name='__main__')
      finally:
          sys.argv = argv0
          os.environ.clear()
          os.environ.update(env0)
          try:
              os.chdir(cwd0)
          except OSError:
              pass
      """;

  private static String runner(String request) {
    return "exec(compile(__import__('base64').b64decode('"
        + Base64.getEncoder().encodeToString(RUNNER_SOURCE.getBytes(StandardCharsets.UTF_8))
        + "').decode(), '<spindle-command>', 'exec'), {'__name__': '__spindle_command__', '__spindle_request__': '"
        + request
        + "'})";
  }

  private static Outcome outcome(EvalResult r) {
    String stderr = r.stderr();
    if (r.ok()) {
      return Outcome.of(r.stdout(), stderr, 0);
    }
    EvalResult.Error e = r.error();
    if ("SystemExit".equals(e.type())) {
      int code;
      try {
        code = Integer.parseInt(e.message().strip());
      } catch (NumberFormatException x) {
        code = 1;
      }
      return Outcome.of(r.stdout(), stderr, code);
    }
    String tb = e.traceback() != null ? trim(e.traceback()) : e.type() + ": " + e.message() + "\n";
    return Outcome.of(r.stdout(), stderr + tb, 1);
  }

  /**
   * A traceback as {@code python} prints it for the program: without the frames of the eval, of the
   * runner above and of runpy, which a process would not have.
   */
  static String trim(String traceback) {
    StringBuilder out = new StringBuilder();
    boolean skipping = false;
    String[] lines = traceback.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String l = lines[i];
      if (l.startsWith("  File \"")) {
        skipping =
            l.startsWith("  File \"<cell ")
                || l.startsWith("  File \"<spindle-command>\"")
                || l.contains("runpy");
      } else if (!(skipping && l.startsWith("    "))) {
        skipping = false;
      }
      if (!skipping) {
        out.append(l);
        if (i < lines.length - 1) {
          out.append('\n');
        }
      }
    }
    return out.toString();
  }

  private static Outcome echo(List<String> args) {
    boolean newline = true;
    int i = 0;
    if (!args.isEmpty() && args.getFirst().equals("-n")) {
      newline = false;
      i = 1;
    }
    return Outcome.of(
        String.join(" ", args.subList(i, args.size())) + (newline ? "\n" : ""), "", 0);
  }

  /**
   * Splits leading single-letter flags (e.g. {@code -rf}) from the operands; an unknown one is
   * null.
   */
  private static String flags(List<String> args, String allowed, List<String> operands) {
    StringBuilder f = new StringBuilder();
    boolean done = false;
    for (String a : args) {
      if (!done && a.equals("--")) {
        done = true;
      } else if (!done && a.startsWith("-") && a.length() > 1) {
        for (char c : a.substring(1).toCharArray()) {
          if (allowed.indexOf(c) < 0) {
            return null;
          }
          f.append(c);
        }
      } else {
        operands.add(a);
      }
    }
    return f.toString();
  }

  private EnvdPath path(String name, String arg) {
    return EnvdPath.parse(name, arg.startsWith("/") ? arg : cwd + "/" + arg);
  }

  private Outcome noTree(String cmd) {
    return Outcome.of("", cmd + ": this sandbox has no writable file tree\n", 1);
  }

  private Outcome ls(List<String> args) {
    List<String> ops = new ArrayList<>();
    String f = flags(args, "a1", ops);
    if (f == null) {
      return Outcome.of("", "ls: only the options -a and -1 are supported here\n", 2);
    }
    if (files.isEmpty()) {
      return noTree("ls");
    }
    boolean all = f.indexOf('a') >= 0;
    if (ops.isEmpty()) {
      ops.add(".");
    }
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    int code = 0;
    for (String op : ops) {
      try {
        EnvdPath p = path("ls", op);
        EnvdFiles.Entry e = files.get().stat(p);
        if (e.type() != EnvdFiles.Type.DIR) {
          out.append(op).append('\n');
          continue;
        }
        if (ops.size() > 1) {
          out.append(op).append(":\n");
        }
        if (all) {
          out.append(".\n..\n");
        }
        for (EnvdFiles.Entry c : files.get().list(p, 1, 10_000)) {
          if (all || !c.name().startsWith(".")) {
            out.append(c.name()).append('\n');
          }
        }
      } catch (EnvdError x) {
        err.append("ls: cannot access '")
            .append(op)
            .append("': ")
            .append(x.getMessage())
            .append('\n');
        code = 2;
      }
    }
    return Outcome.of(out.toString(), err.toString(), code);
  }

  private Outcome cat(List<String> args) {
    List<String> ops = new ArrayList<>();
    if (flags(args, "", ops) == null) {
      return Outcome.of("", "cat: options are not supported here\n", 2);
    }
    if (files.isEmpty()) {
      return noTree("cat");
    }
    if (ops.isEmpty()) {
      return Outcome.of("", "cat: reading stdin is not supported here; name a file\n", 2);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringBuilder err = new StringBuilder();
    int code = 0;
    for (String op : ops) {
      try {
        EnvdFiles.Opened o = files.get().read(path("cat", op));
        try (InputStream in = o.in()) {
          if (out.size() + o.size() > MAX_OUTPUT) {
            return new Outcome(
                out.toByteArray(),
                ("cat: the output would pass "
                        + (MAX_OUTPUT >> 20)
                        + " MiB; read large files with files.read\n")
                    .getBytes(StandardCharsets.UTF_8),
                1,
                "output too large");
          }
          out.write(in.readNBytes(MAX_OUTPUT - out.size()));
        }
      } catch (EnvdError x) {
        err.append("cat: ").append(op).append(": ").append(x.getMessage()).append('\n');
        code = 1;
      } catch (IOException x) {
        err.append("cat: ").append(op).append(": read failed\n");
        code = 1;
      }
    }
    byte[] e = err.toString().getBytes(StandardCharsets.UTF_8);
    return new Outcome(out.toByteArray(), e, code, code == 0 ? null : "exit status " + code);
  }

  private Outcome mkdir(List<String> args) {
    List<String> ops = new ArrayList<>();
    String f = flags(args, "p", ops);
    if (f == null) {
      return Outcome.of("", "mkdir: only the option -p is supported here\n", 2);
    }
    if (files.isEmpty()) {
      return noTree("mkdir");
    }
    if (ops.isEmpty()) {
      return Outcome.of("", "mkdir: missing operand\n", 1);
    }
    boolean parents = !f.isEmpty();
    StringBuilder err = new StringBuilder();
    int code = 0;
    for (String op : ops) {
      try {
        EnvdPath p = path("mkdir", op);
        if (!parents) {
          EnvdFiles.Entry parent = files.get().stat(p.parent());
          if (parent.type() != EnvdFiles.Type.DIR) {
            throw EnvdError.invalid("not a directory: " + p.parent());
          }
        }
        files.get().makeDir(p);
      } catch (EnvdError x) {
        if (x.code == EnvdError.Code.ALREADY_EXISTS && parents) {
          continue;
        }
        err.append("mkdir: cannot create directory '")
            .append(op)
            .append("': ")
            .append(x.code == EnvdError.Code.ALREADY_EXISTS ? "File exists" : x.getMessage())
            .append('\n');
        code = 1;
      }
    }
    return Outcome.of("", err.toString(), code);
  }

  private Outcome rm(List<String> args) {
    List<String> ops = new ArrayList<>();
    String f = flags(args, "rRf", ops);
    if (f == null) {
      return Outcome.of("", "rm: only the options -r, -R and -f are supported here\n", 2);
    }
    if (files.isEmpty()) {
      return noTree("rm");
    }
    boolean recursive = f.indexOf('r') >= 0 || f.indexOf('R') >= 0;
    boolean force = f.indexOf('f') >= 0;
    StringBuilder err = new StringBuilder();
    int code = 0;
    for (String op : ops) {
      try {
        EnvdPath p = path("rm", op);
        EnvdFiles.Entry e = files.get().stat(p);
        if (e.type() == EnvdFiles.Type.DIR && !recursive) {
          throw EnvdError.invalid("Is a directory");
        }
        files.get().remove(p);
      } catch (EnvdError x) {
        if (x.code == EnvdError.Code.NOT_FOUND && force) {
          continue;
        }
        err.append("rm: cannot remove '")
            .append(op)
            .append("': ")
            .append(
                x.code == EnvdError.Code.NOT_FOUND ? "No such file or directory" : x.getMessage())
            .append('\n');
        code = 1;
      }
    }
    if (ops.isEmpty() && !force) {
      return Outcome.of("", "rm: missing operand\n", 1);
    }
    return Outcome.of("", err.toString(), code);
  }
}
