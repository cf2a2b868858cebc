package dev.spindle.cli;

import dev.spindle.daemon.AccessOptions;
import dev.spindle.daemon.DaemonConfig;
import dev.spindle.daemon.DaemonMain;
import dev.spindle.daemon.NodeLimits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "daemon",
    header = "Run a Spindle node: the REST API over this home.",
    mixinStandardHelpOptions = true,
    description = {
      "Run a Spindle node: the REST API (/v1, described at /v1/openapi.json) over this home's",
      "images, snapshots and sandboxes. A bearer token is generated on first start into",
      "HOME/daemon.token (mode 0600) and required on every call but /healthz."
    },
    footer = {
      "",
      "Examples:",
      "  spindle daemon                                 # 127.0.0.1:8889",
      "  spindle image ls --node http://127.0.0.1:8889",
      "  curl -H \"Authorization: Bearer $(cat ~/.spindle/daemon.token)\" http://127.0.0.1:8889/v1/images"
    })
final class DaemonCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(
      names = "--listen",
      paramLabel = "HOST:PORT",
      defaultValue = "127.0.0.1:8889",
      description =
          "Address to listen on (default ${DEFAULT-VALUE}: loopback only; the API runs code).")
  String listen;

  @Option(
      names = "--max-concurrent",
      paramLabel = "N",
      defaultValue = "64",
      description = "Requests handled at once; more are answered 503 (default ${DEFAULT-VALUE}).")
  int maxConcurrent;

  @Option(
      names = "--max-sandboxes",
      paramLabel = "N",
      defaultValue = "10000",
      description = "Sandboxes held at once; more are answered 503 (default ${DEFAULT-VALUE}).")
  int maxSandboxes;

  @Option(
      names = "--max-timeout",
      paramLabel = "DURATION",
      defaultValue = "10m",
      description =
          "The largest limits.timeout_ms a request may ask, e.g. 30s, 10m (default ${DEFAULT-VALUE}).")
  String maxTimeout;

  @Option(
      names = "--max-memory",
      paramLabel = "SIZE",
      defaultValue = "4GiB",
      description =
          "The largest limits.max_memory_pages a request may ask, e.g. 256MiB (default ${DEFAULT-VALUE}).")
  String maxMemory;

  @Option(
      names = "--max-output",
      paramLabel = "SIZE",
      defaultValue = "64MiB",
      description = "The largest limits.output_cap a request may ask (default ${DEFAULT-VALUE}).")
  String maxOutput;

  @Option(
      names = "--memory-budget",
      paramLabel = "SIZE",
      description = {
        "Guest memory all sandboxes together may reach, each counted at its maximum; a create past it",
        "is answered 503 (default: three quarters of the JVM's maximum heap, where guest memory lives)."
      })
  String memoryBudget;

  @Option(
      names = "--idle-timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      description =
          "How long a connection may send nothing, mid-body too, before it is closed (default ${DEFAULT-VALUE}).")
  String idleTimeout;

  @Option(
      names = "--page-listen",
      paramLabel = "HOST:PORT",
      description =
          "Where the remote-fork page service listens (default: the API's host, a free port).")
  String pageListen;

  @Option(
      names = "--page-store",
      paramLabel = "DIR|s3://BUCKET[/PREFIX]?endpoint=URL",
      description =
          "Fallback store of forked sandboxes' pages (default HOME/pages; S3 keys from AWS_ACCESS_KEY_ID and "
              + "AWS_SECRET_ACCESS_KEY); share it between nodes so a child finishes when its parent's node is gone.")
  String pageStore;

  @Option(
      names = "--page-advertise",
      paramLabel = "HOST",
      description = {
        "The address other nodes reach this node's page service at, written into the descriptors it",
        "prepares (default: the address it listens on; required when that is 0.0.0.0 or ::)."
      })
  String pageAdvertise;

  @Option(
      names = "--peer",
      paramLabel = "URL",
      description = {
        "Another node this one trusts (repeatable), e.g. http://10.0.0.3:8889: the only nodes it forks",
        "to, resumes descriptors from (checked with the key the peer serves) and makes images from by URL.",
        "Two nodes that name each other fork to each other with no other setting. Default: none."
      })
  List<String> peers = new ArrayList<>();

  @Option(
      names = "--allow-path",
      paramLabel = "DIR",
      description = {
        "A directory whose files API clients may name (repeatable): image sources and wasm.file.",
        "Default: none, so a token holder runs sandboxes but cannot read this host's files."
      })
  List<Path> allowPaths = new ArrayList<>();

  @Option(
      names = "--volume",
      paramLabel = "NAME=DIR",
      description = {
        "Lend host directory DIR to sandboxes as volume NAME (repeatable); API clients name it, never the path:",
        "\"dirs\": [{\"guest\": \"/shared\", \"volume\": \"NAME\"}]. Shared, never copied: branches see the same",
        "directory, snapshots record it by name, remote fork refuses it. Not inside this node's home. Default: none."
      })
  List<String> volumes = new ArrayList<>();

  @Option(
      names = "--warm",
      paramLabel = "RUNTIME",
      description = {
        "Boot this runtime's warm snapshot in the background as soon as the node listens (repeatable;",
        "only python), so the first Python request does not wait seconds for it. Default: none (on first need)."
      })
  List<String> warm = new ArrayList<>();

  @Option(
      names = "--containers",
      description = {
        "Let API clients start container sandboxes (E2B templates naming an image): runc over the image,",
        "confined as `spindle container run` is. Needs root and runc. Default: off."
      })
  boolean containers;

  @Override
  public Integer call() throws Exception {
    NodeLimits limits =
        NodeLimits.defaults()
            .withOption("--max-timeout", maxTimeout)
            .withOption("--max-memory", maxMemory)
            .withOption("--max-output", maxOutput)
            .withOption("--idle-timeout", idleTimeout);
    if (memoryBudget != null) {
      limits = limits.withOption("--memory-budget", memoryBudget);
    }
    DaemonMain.run(
        DaemonConfig.defaults(common.home())
            .listen(listen)
            .withCaps(maxConcurrent, maxSandboxes)
            .withLimits(limits)
            .withWarm(warm),
        pageListen,
        pageStore,
        pageAdvertise,
        new AccessOptions(peers, allowPaths).withContainers(containers).withVolumes(volumes));
    return 0;
  }
}
