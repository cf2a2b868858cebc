package dev.spindle.daemon.e2b;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.container.Container;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * envd's {@code process.Process} in a container sandbox: each command is a real process in the
 * container ({@link Container#exec}, {@code runc exec}), its output streamed as it comes, its stdin
 * open when the start asked for it ({@code stdin: true}), signals sent to it and what it started.
 * The SDK wraps every command in {@code /bin/bash -l -c LINE}; images often have no bash, so the
 * line runs as {@code /bin/sh -c LINE}. A command given without a shell runs as given.
 */
final class EnvdContainerCommands {
  /** Output is sent in data events of at most this many bytes (as it comes, never gathered). */
  private static final int CHUNK = 32 << 10;

  /** Bytes one {@code SendInput} may carry (the RPC body is bounded anyway). */
  private static final int MAX_INPUT = 1 << 20;

  private EnvdContainerCommands() {}

  static void run(
      ContainerSandboxes.Box box,
      EnvdProcesses table,
      JsonNode req,
      JsonNode config,
      String cmd,
      List<String> args,
      Map<String, String> envs,
      String shellLine,
      Envd envd,
      EnvdConnect.Stream s)
      throws IOException {
    List<String> argv = new ArrayList<>();
    if (shellLine != null) {
      argv.addAll(List.of("/bin/sh", "-c", shellLine));
    } else {
      if (cmd.isEmpty()) {
        throw EnvdError.invalid("'process.cmd' is empty");
      }
      argv.add(cmd);
      argv.addAll(args);
    }
    List<String> env = new ArrayList<>();
    for (Map.Entry<String, String> e : envs.entrySet()) {
      if (e.getKey().isEmpty()
          || e.getKey().contains("=")
          || e.getKey().indexOf('\0') >= 0
          || e.getValue().indexOf('\0') >= 0) {
        throw EnvdError.invalid("'process.envs' has a name that is empty or holds '=' or NUL");
      }
      env.add(e.getKey() + "=" + e.getValue());
    }
    for (String a : argv) {
      if (a.indexOf('\0') >= 0) {
        throw EnvdError.invalid("the command holds a NUL character");
      }
    }
    String cwd =
        config.hasNonNull("cwd")
            ? EnvdPath.parse("process.cwd", config.get("cwd").asText()).toString()
            : box.workdir;
    Container.Exec p;
    try {
      p = box.container.exec(argv, env, cwd);
    } catch (IllegalArgumentException e) {
      throw EnvdError.invalid(e.getMessage());
    }
    try (p) {
      if (!req.path("stdin").asBoolean(false)) {
        p.stdin().close(); // the command reads end of file, as envd gives a command started without
        // stdin
      }
      EnvdProcesses.Running r =
          table.start(req.hasNonNull("tag") ? req.get("tag").asText() : null, config.deepCopy(), p);
      try {
        send(s, envd.event("start", envd.connectObject().put("pid", r.pid())));
        // stderr on a thread of its own, stdout here: each sent as it arrives.
        Thread err =
            Thread.ofVirtual()
                .name("spindle-envd-stderr")
                .start(() -> pump(p.stderr(), "stderr", envd, s, p));
        pump(p.stdout(), "stdout", envd, s, p);
        int code = p.waitFor();
        err.join();
        ObjectNode end = envd.connectObject();
        // runc reports a signal's end as 128 + n; envd reports -1 and Go's "signal: killed".
        boolean signalled = code > 128 && code < 160;
        end.put("exitCode", signalled ? -1 : code);
        end.put("exited", !signalled);
        end.put("status", signalled ? "signal: " + signalName(code - 128) : "exit status " + code);
        r.done().complete(new EnvdProgram.Outcome(new byte[0], new byte[0], code, null));
        send(s, envd.event("end", end));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EnvdError(EnvdError.Code.CANCELED, "interrupted while waiting for the command");
      } finally {
        if (!r.done().isDone()) {
          r.done()
              .completeExceptionally(
                  new EnvdError(EnvdError.Code.CANCELED, "the command's stream ended"));
        }
        table.finish(r);
      }
    }
  }

  /**
   * Sends what {@code in} gives as data events until it ends. When the client has gone, the command
   * is killed (no one can see or stop it any more) and the rest is drained.
   */
  private static void pump(
      InputStream in, String stream, Envd envd, EnvdConnect.Stream s, Container.Exec p) {
    byte[] buf = new byte[CHUNK];
    boolean gone = false;
    try (in) {
      for (int n; (n = in.read(buf)) > 0; ) {
        if (gone) {
          continue;
        }
        try {
          send(
              s,
              envd.event(
                  "data",
                  envd.connectObject()
                      .put(stream, Base64.getEncoder().encodeToString(Arrays.copyOf(buf, n)))));
        } catch (IOException e) {
          gone = true;
          p.signal(true);
        }
      }
    } catch (IOException e) {
      // the pipe broke: the process is gone
    }
  }

  private static void send(EnvdConnect.Stream s, JsonNode message) throws IOException {
    synchronized (s) {
      s.send(message);
    }
  }

  static JsonNode sendInput(EnvdProcesses.Running r, JsonNode req, Envd envd) {
    JsonNode in = req.path("input");
    if (in.hasNonNull("pty")) {
      throw EnvdError.unimplemented("terminals (pty) are not supported by Spindle's envd");
    }
    String b64 = in.path("stdin").asText("");
    if (b64.length() > MAX_INPUT / 3 * 4 + 4) {
      throw EnvdError.invalid("'input.stdin' is longer than " + (MAX_INPUT >> 20) + " MiB");
    }
    byte[] data;
    try {
      data = Base64.getDecoder().decode(b64);
    } catch (IllegalArgumentException e) {
      throw EnvdError.invalid("'input.stdin' is not base64");
    }
    OutputStream out = r.process().stdin();
    try {
      synchronized (out) {
        out.write(data);
        out.flush();
      }
    } catch (IOException e) {
      throw EnvdError.precondition(
          "the command's stdin is closed (start it with stdin: true, and it must still read)");
    }
    return envd.connectObject();
  }

  static JsonNode closeStdin(EnvdProcesses.Running r, Envd envd) {
    try {
      r.process().stdin().close();
    } catch (IOException e) {
      // closed already
    }
    return envd.connectObject();
  }

  /**
   * {@code SendSignal}: SIGKILL ({@code SIGNAL_SIGKILL}, 9) or SIGTERM ({@code SIGNAL_SIGTERM},
   * 15).
   */
  static JsonNode signal(EnvdProcesses.Running r, JsonNode req, Envd envd) {
    JsonNode sig = req.path("signal");
    String name = sig.asText("");
    boolean kill =
        sig.isInt() ? sig.asInt() == 9 : name.equals("SIGNAL_SIGKILL") || name.equals("9");
    boolean term =
        sig.isInt() ? sig.asInt() == 15 : name.equals("SIGNAL_SIGTERM") || name.equals("15");
    if (!kill && !term) {
      throw EnvdError.invalid("'signal' must be SIGNAL_SIGKILL or SIGNAL_SIGTERM");
    }
    r.process().signal(kill);
    return envd.connectObject();
  }

  private static String signalName(int n) {
    return switch (n) {
      case 9 -> "killed";
      case 15 -> "terminated";
      case 2 -> "interrupt";
      case 1 -> "hangup";
      case 13 -> "broken pipe";
      default -> "signal " + n;
    };
  }
}
