package dev.spindle.cli;

import dev.spindle.client.SpindleClient;
import dev.spindle.store.SpindleHome;
import java.io.IOException;
import picocli.CommandLine.Option;

/**
 * Options of commands that can talk to a node: {@code --node URL} sends the work to that daemon
 * instead of doing it in this process; the token comes from {@code --token}, else {@code
 * SPINDLE_TOKEN}, else the home's {@code daemon.token}.
 */
final class NodeOptions {
  @Option(
      names = "--node",
      paramLabel = "URL",
      description =
          "Talk to the Spindle node at URL (e.g. http://127.0.0.1:8889) instead of running embedded.")
  String node;

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      description =
          "The node's bearer token. Default: $SPINDLE_TOKEN, else the daemon.token file in the home.")
  String token;

  boolean remote() {
    return node != null;
  }

  SpindleClient client(SpindleHome home) throws IOException {
    return client(home, node);
  }

  /** A client of {@code url} (the node given, or a default for daemon-only commands). */
  SpindleClient client(SpindleHome home, String url) throws IOException {
    return SpindleClient.connect(
        url, token != null ? token : SpindleClient.defaultToken(home.root()));
  }
}
