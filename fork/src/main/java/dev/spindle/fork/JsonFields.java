package dev.spindle.fork;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * Reads required fields of a JSON object, naming the field's full path (e.g. {@code
 * sandbox.wasi.fds[3].offset}) and the file when one is missing or of the wrong type.
 */
final class JsonFields {
  private final Path file;
  private final String path;
  private final JsonNode node;

  JsonFields(Path file, String path, JsonNode node) {
    this.file = file;
    this.path = path;
    this.node = node;
    if (node == null || !node.isObject()) {
      throw damaged(path, "is missing or not an object");
    }
  }

  private String at(String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  SnapshotDamagedException damaged(String field, String what) {
    return new SnapshotDamagedException(file + ": field " + field + " " + what);
  }

  JsonNode required(String name) {
    JsonNode n = node.get(name);
    if (n == null || n.isNull()) {
      throw damaged(at(name), "is missing");
    }
    return n;
  }

  JsonFields object(String name) {
    return new JsonFields(file, at(name), required(name));
  }

  long longValue(String name) {
    JsonNode n = required(name);
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw damaged(at(name), "is not a 64-bit integer: " + n);
    }
    return n.asLong();
  }

  int intValue(String name) {
    JsonNode n = required(name);
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      throw damaged(at(name), "is not a 32-bit integer: " + n);
    }
    return n.asInt();
  }

  boolean bool(String name) {
    JsonNode n = required(name);
    if (!n.isBoolean()) {
      throw damaged(at(name), "is not a boolean: " + n);
    }
    return n.asBoolean();
  }

  String text(String name) {
    JsonNode n = required(name);
    if (!n.isTextual()) {
      throw damaged(at(name), "is not a string: " + n);
    }
    return n.asText();
  }

  /** An optional string: absent or null gives null. */
  String optionalText(String name) {
    JsonNode n = node.get(name);
    if (n == null || n.isNull()) {
      return null;
    }
    return text(name);
  }

  /** Array field {@code name}: its elements, each with its path. */
  java.util.List<Element> array(String name) {
    JsonNode n = required(name);
    if (!n.isArray()) {
      throw damaged(at(name), "is not an array");
    }
    java.util.List<Element> out = new java.util.ArrayList<>(n.size());
    for (int i = 0; i < n.size(); i++) {
      out.add(new Element(at(name) + "[" + i + "]", n.get(i)));
    }
    return out;
  }

  /** One array element, with the path to name it by. */
  final class Element {
    final String path;
    final JsonNode node;

    Element(String path, JsonNode node) {
      this.path = path;
      this.node = node;
    }

    JsonFields object() {
      return new JsonFields(file, path, node);
    }

    String text() {
      if (!node.isTextual()) {
        throw damaged(path, "is not a string: " + node);
      }
      return node.asText();
    }

    int intValue() {
      if (!node.isIntegralNumber() || !node.canConvertToInt()) {
        throw damaged(path, "is not a 32-bit integer: " + node);
      }
      return node.asInt();
    }
  }
}
