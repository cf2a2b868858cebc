package dev.spindle.image.nio;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Parses {@code Files.readAttributes(path, "view:a,b")} requests ("basic" when no view is named,
 * {@code *} for all) and answers them from {@link AttributeProvider}s. An unknown view is an {@link
 * UnsupportedOperationException}, an unknown attribute an {@link IllegalArgumentException}, as
 * {@code Files.readAttributes} documents.
 */
final class AttributeService {
  private AttributeService() {}

  static final Set<String> VIEWS =
      Arrays.stream(AttributeProvider.values()).map(p -> p.viewName).collect(Collectors.toSet());

  static Map<String, Object> read(ImageFileAttributes a, String request) {
    int colon = request.indexOf(':');
    String view = colon < 0 ? "basic" : request.substring(0, colon);
    String names = colon < 0 ? request : request.substring(colon + 1);
    AttributeProvider provider = provider(view);
    Map<String, Object> out = new LinkedHashMap<>();
    for (String name : names.split(",", -1)) {
      if (name.equals("*")) {
        provider.attributes.forEach(n -> out.put(n, provider.get(a, n)));
      } else if (provider.attributes.contains(name)) {
        out.put(name, provider.get(a, name));
      } else {
        throw new IllegalArgumentException(
            "'"
                + name
                + "' is not an attribute of view '"
                + view
                + "' (it has "
                + provider.attributes
                + ")");
      }
    }
    return out;
  }

  private static AttributeProvider provider(String view) {
    for (AttributeProvider p : AttributeProvider.values()) {
      if (p.viewName.equals(view)) {
        return p;
      }
    }
    throw new UnsupportedOperationException(
        "no attribute view '" + view + "' (views: " + VIEWS + ")");
  }
}
