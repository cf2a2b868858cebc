package dev.spindle.cli;

import dev.spindle.client.Api;
import dev.spindle.client.Api.Fork;
import dev.spindle.client.Api.ForkResult;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.SpindleClient;
import dev.spindle.store.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code spindle fork} and {@code spindle resume}: remote fork of a sandbox between nodes. */
final class RemoteForkCommands {
  private RemoteForkCommands() {}

  /** Both commands talk to one node: {@code --node}, else the default. */
  abstract static class Base implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Mixin NodeOptions node;

    SpindleClient client() throws IOException {
      return node.client(common.home(), node.node != null ? node.node : Api.DEFAULT_NODE);
    }
  }

  @Command(
      name = "fork",
      mixinStandardHelpOptions = true,
      description = {
        "Fork a running reactor sandbox to another node: it continues there at once, its memory",
        "pages fetched on first touch from this node (or from the fallback store if this node is",
        "gone). With -o, write the descriptor to a file for 'spindle resume' instead."
      })
  static final class ForkCommand extends Base {
    @Parameters(index = "0", paramLabel = "SANDBOX")
    String sandbox;

    /** Exactly one destination. */
    static final class Destination {
      @Option(
          names = "--to",
          paramLabel = "URL",
          required = true,
          description = "The node to continue on.")
      String to;

      @Option(
          names = {"-o", "--output"},
          paramLabel = "FILE",
          required = true,
          description = "Write the descriptor here instead.")
      Path output;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Destination destination;

    @Option(
        names = "--to-token",
        paramLabel = "TOKEN",
        description = "The destination node's token (default: the one used for --node).")
    String toToken;

    @Option(
        names = "--ttl",
        paramLabel = "DURATION",
        description = "How long this node serves the pages, e.g. 10m, 1h (default 1h).")
    String ttl;

    private Long ttlSeconds() {
      return ttl == null ? null : Math.max(1, RunLimits.duration(ttl).toSeconds());
    }

    @Override
    public Integer call() throws Exception {
      SpindleClient c = client();
      if (destination.to != null) {
        String token =
            toToken != null
                ? toToken
                : node.token != null
                    ? node.token
                    : SpindleClient.defaultToken(common.home().root());
        ForkResult r = c.fork(sandbox, new Fork(destination.to, token, ttlSeconds()));
        System.out.println(
            r.child().id()
                + " on "
                + r.node()
                + " (descriptor "
                + r.descriptorId()
                + ", "
                + r.descriptorBytes()
                + " bytes)");
      } else {
        ForkResult r = c.fork(sandbox, new Fork(null, null, ttlSeconds()));
        AtomicFiles.write(
            destination.output.toAbsolutePath(), Base64.getDecoder().decode(r.descriptor()));
        System.out.println(
            "descriptor "
                + r.descriptorId()
                + ": "
                + r.descriptorBytes()
                + " bytes in "
                + destination.output);
      }
      return 0;
    }
  }

  @Command(
      name = "resume",
      mixinStandardHelpOptions = true,
      description =
          "Continue a sandbox on a node from a descriptor file written by 'spindle fork -o'.")
  static final class ResumeCommand extends Base {
    @Parameters(index = "0", paramLabel = "FILE")
    Path file;

    @Override
    public Integer call() throws Exception {
      SandboxInfo s = client().resume(Files.readAllBytes(file));
      System.out.println(s.id() + " " + s.kind() + " " + s.status());
      return 0;
    }
  }
}
