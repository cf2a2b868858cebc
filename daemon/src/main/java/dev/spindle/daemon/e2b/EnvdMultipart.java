package dev.spindle.daemon.e2b;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The {@code multipart/form-data} body of an upload ({@code files.write} sends each file as a part
 * named {@code file} whose filename is its path), parsed from a body already read and bounded. Only
 * what a form upload needs: parts, their {@code Content-Disposition} name and filename; a malformed
 * body is refused, not repaired.
 */
final class EnvdMultipart {
  /** At most this many files in one upload. */
  static final int MAX_PARTS = 1000;

  private static final int MAX_HEADERS = 16 << 10;

  record Part(String name, String filename, byte[] data) {}

  private EnvdMultipart() {}

  /** The boundary of a {@code multipart/form-data} content type, or null if it is not one. */
  static String boundary(String contentType) {
    if (contentType == null
        || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
      return null;
    }
    for (String p : contentType.split(";")) {
      String t = p.strip();
      if (t.toLowerCase(Locale.ROOT).startsWith("boundary=")) {
        String b = t.substring("boundary=".length());
        if (b.length() >= 2 && b.startsWith("\"") && b.endsWith("\"")) {
          b = b.substring(1, b.length() - 1);
        }
        if (b.isEmpty() || b.length() > 70) {
          throw EnvdError.invalid("the multipart boundary must have 1 to 70 characters");
        }
        return b;
      }
    }
    throw EnvdError.invalid("multipart/form-data needs a boundary parameter");
  }

  static List<Part> parse(byte[] body, String boundary) {
    byte[] dash = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    byte[] delim = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    int pos = indexOf(body, dash, 0);
    if (pos != 0) {
      throw EnvdError.invalid("the multipart body does not start with its boundary");
    }
    List<Part> parts = new ArrayList<>();
    pos += dash.length;
    while (true) {
      if (startsWith(body, pos, "--")) {
        return parts; // the close delimiter
      }
      if (!startsWith(body, pos, "\r\n")) {
        throw EnvdError.invalid(
            "malformed multipart body: a boundary is not followed by a line end");
      }
      pos += 2;
      int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), pos);
      if (headersEnd < 0 || headersEnd - pos > MAX_HEADERS) {
        throw EnvdError.invalid(
            "malformed multipart body: a part's headers do not end (or pass 16 KiB)");
      }
      String headers = new String(body, pos, headersEnd - pos, StandardCharsets.UTF_8);
      int dataStart = headersEnd + 4;
      int dataEnd = indexOf(body, delim, dataStart);
      if (dataEnd < 0) {
        throw EnvdError.invalid(
            "malformed multipart body: the last part is not closed by the boundary");
      }
      if (parts.size() == MAX_PARTS) {
        throw EnvdError.invalid("an upload holds at most " + MAX_PARTS + " files");
      }
      String disposition = null;
      for (String h : headers.split("\r\n")) {
        int colon = h.indexOf(':');
        if (colon > 0 && h.substring(0, colon).strip().equalsIgnoreCase("Content-Disposition")) {
          disposition = h.substring(colon + 1);
        }
      }
      if (disposition == null) {
        throw EnvdError.invalid("a multipart part has no Content-Disposition header");
      }
      parts.add(
          new Part(
              param(disposition, "name"),
              param(disposition, "filename"),
              Arrays.copyOfRange(body, dataStart, dataEnd)));
      pos = dataEnd + delim.length;
    }
  }

  /**
   * A parameter of a Content-Disposition value, quoted (with backslash escapes) or not; null if
   * absent.
   */
  private static String param(String value, String name) {
    int i = 0;
    int n = value.length();
    while (i < n) {
      int semi = value.indexOf(';', i);
      if (semi < 0) {
        return null;
      }
      i = semi + 1;
      while (i < n && value.charAt(i) == ' ') {
        i++;
      }
      int eq = value.indexOf('=', i);
      if (eq < 0) {
        return null;
      }
      String key = value.substring(i, eq).strip();
      i = eq + 1;
      String v;
      if (i < n && value.charAt(i) == '"') {
        StringBuilder b = new StringBuilder();
        i++;
        while (i < n && value.charAt(i) != '"') {
          if (value.charAt(i) == '\\' && i + 1 < n) {
            i++;
          }
          b.append(value.charAt(i));
          i++;
        }
        i++;
        v = b.toString();
      } else {
        int end = value.indexOf(';', i);
        v = value.substring(i, end < 0 ? n : end).strip();
        i = end < 0 ? n : end;
      }
      if (key.equalsIgnoreCase(name)) {
        return v;
      }
    }
    return null;
  }

  private static boolean startsWith(byte[] body, int pos, String s) {
    if (pos + s.length() > body.length) {
      return false;
    }
    for (int k = 0; k < s.length(); k++) {
      if (body[pos + k] != s.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(byte[] body, byte[] needle, int from) {
    outer:
    for (int i = from; i <= body.length - needle.length; i++) {
      for (int k = 0; k < needle.length; k++) {
        if (body[i + k] != needle[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
