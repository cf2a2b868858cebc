package dev.spindle.daemon.e2b;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The commands of one sandbox that are still running, by pid, for {@code commands.list}, {@code
 * connect} and {@code kill}: a command leaves the table when it ends, as a process does. Pids are
 * numbers of this table, counted from 1; they name nothing on the host.
 */
final class EnvdProcesses {
  /**
   * A running command: what started it (the SDK's {@code ProcessConfig}, kept as sent) and its end.
   */
  record Running(
      int pid,
      String tag,
      JsonNode config,
      CompletableFuture<EnvdProgram.Outcome> done,
      dev.spindle.container.Container.Exec process) {}

  private final AtomicInteger next = new AtomicInteger(1);
  private final Map<Integer, Running> running = new ConcurrentHashMap<>();

  Running start(String tag, JsonNode config) {
    return start(tag, config, null);
  }

  /**
   * A command; {@code process} its process in a container sandbox (null: a Python sandbox's
   * command).
   */
  Running start(String tag, JsonNode config, dev.spindle.container.Container.Exec process) {
    Running r =
        new Running(next.getAndIncrement(), tag, config, new CompletableFuture<>(), process);
    running.put(r.pid(), r);
    return r;
  }

  void finish(Running r) {
    running.remove(r.pid());
  }

  Running find(int pid) {
    return running.get(pid);
  }

  Running findTag(String tag) {
    return running.values().stream().filter(r -> tag.equals(r.tag())).findFirst().orElse(null);
  }

  List<Running> list() {
    return running.values().stream()
        .sorted(java.util.Comparator.comparingInt(Running::pid))
        .toList();
  }
}
