package dev.spindle.daemon.e2b;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A path in the sandbox as the SDK names it ({@code /home/user/a.txt}, or {@code a.txt}, relative
 * to the user's home as envd reads it), cleaned the way envd cleans it ({@code .} and empty parts
 * dropped, {@code ..} taking one back) into plain components below the sandbox's root. Nothing here
 * touches a file: resolving the components without following links is {@link EnvdFiles}' work. A
 * {@code ..} above the root is refused rather than clamped, so a path never silently names
 * something else.
 */
record EnvdPath(List<String> components) {
  /** The home of the sandbox's one user, where relative paths start (as in E2B's templates). */
  static final String HOME = "/home/user";

  static final int MAX_LENGTH = 4096;
  private static final int MAX_NAME = 255;

  EnvdPath {
    components = List.copyOf(components);
  }

  static EnvdPath parse(String field, String path) {
    if (path == null || path.isEmpty()) {
      throw EnvdError.invalid(
          "'" + field + "' is required: a path in the sandbox, e.g. " + HOME + "/file.txt");
    }
    if (path.length() > MAX_LENGTH) {
      throw EnvdError.invalid(
          "'" + field + "' has " + path.length() + " characters; the most is " + MAX_LENGTH);
    }
    if (path.indexOf('\0') >= 0) {
      throw EnvdError.invalid("'" + field + "' holds a NUL character");
    }
    String full = path.startsWith("/") ? path : HOME + "/" + path;
    List<String> out = new ArrayList<>();
    for (String c : full.split("/")) {
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        if (out.isEmpty()) {
          throw EnvdError.invalid("'" + field + "' goes above the sandbox's root with '..'");
        }
        out.removeLast();
        continue;
      }
      if (c.getBytes(StandardCharsets.UTF_8).length > MAX_NAME) {
        throw EnvdError.invalid("'" + field + "' has a name longer than " + MAX_NAME + " bytes");
      }
      out.add(c);
    }
    return new EnvdPath(out);
  }

  String name() {
    return components.isEmpty() ? "/" : components.getLast();
  }

  EnvdPath parent() {
    return components.isEmpty() ? this : new EnvdPath(components.subList(0, components.size() - 1));
  }

  EnvdPath child(String name) {
    List<String> c = new ArrayList<>(components);
    c.add(name);
    return new EnvdPath(c);
  }

  @Override
  public String toString() {
    return "/" + String.join("/", components);
  }
}
