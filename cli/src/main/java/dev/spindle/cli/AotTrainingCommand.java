package dev.spindle.cli;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.SpindleClient;
import dev.spindle.daemon.Daemon;
import dev.spindle.daemon.DaemonConfig;
import dev.spindle.daemon.SampleGuest;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Trees;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The training run the {@code spindle} launcher records its AOT cache (JEP 483/514) from: what most
 * starts do, so that their classes come already parsed and linked. It starts a node in a temporary
 * home on a free loopback port, starts a sandbox of the sample guest over the API, calls it, stops
 * the node and removes the home, then renders the whole command tree's help. Before, the cache was
 * trained on {@code --help} alone and a node's start (Jetty, Jackson, SQLite, the JCA providers:
 * some 3,000 classes) loaded every class from the jar.
 */
@Command(
    name = "aot-training",
    hidden = true,
    description =
        "The launcher's AOT training run: start a node in a temporary home, call a guest, print nothing.")
final class AotTrainingCommand implements Callable<Integer> {
  @Override
  public Integer call() throws Exception {
    Path home = Files.createTempDirectory("spindle-aot-training-");
    try (Daemon node =
        Daemon.start(DaemonConfig.defaults(new SpindleHome(home)).listen("127.0.0.1:0"))) {
      SpindleClient c = SpindleClient.connect(node.url(), node.token());
      String id =
          c.createSandboxes(
                  new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()), null, null, 1, null))
              .getFirst()
              .id();
      c.call(id, "add", 40, 2);
      c.deleteSandbox(id);
    } finally {
      Trees.delete(home);
    }
    new CommandLine(new SpindleCommand()).usage(new PrintWriter(Writer.nullWriter()));
    return 0;
  }
}
