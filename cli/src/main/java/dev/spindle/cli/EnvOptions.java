package dev.spindle.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code -e/--env NAME=VALUE}, the same in every command that gives a guest an environment. */
final class EnvOptions {
  @Option(
      names = {"-e", "--env"},
      paramLabel = "NAME=VALUE",
      description = "Environment variable (repeatable).")
  List<String> env = new ArrayList<>();

  /** The entries as given, in order. */
  List<String> entries() {
    return Collections.unmodifiableList(env);
  }

  /** The entries by name, in order (a later one wins). */
  Map<String, String> map() {
    Map<String, String> vars = new LinkedHashMap<>();
    for (String kv : env) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--env: expected NAME=VALUE: " + kv);
      }
      vars.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return vars;
  }
}
