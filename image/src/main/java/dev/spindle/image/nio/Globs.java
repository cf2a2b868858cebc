package dev.spindle.image.nio;

import java.util.regex.PatternSyntaxException;

/**
 * Glob to regex, with the syntax {@link java.nio.file.FileSystem#getPathMatcher} documents: {@code
 * *} and {@code ?} stay within a name, {@code **} crosses names, {@code [a-z]} and {@code [!a]}
 * classes never match '/', {@code {a,b}} groups do not nest, {@code \} escapes. Written here rather
 * than delegating to the default file system, whose paths cannot hold every name an image can.
 */
final class Globs {
  private static final String REGEX_META = ".^$+{[]|()";
  private static final String GLOB_META = "\\^$.|?*+()[]{}";

  private Globs() {}

  static String toRegex(String glob) {
    StringBuilder re = new StringBuilder("^");
    boolean inGroup = false;
    int i = 0;
    while (i < glob.length()) {
      char c = glob.charAt(i++);
      switch (c) {
        case '\\' -> {
          if (i == glob.length()) {
            throw new PatternSyntaxException("nothing to escape", glob, i - 1);
          }
          char next = glob.charAt(i++);
          if (GLOB_META.indexOf(next) >= 0 || REGEX_META.indexOf(next) >= 0) {
            re.append('\\');
          }
          re.append(next);
        }
        case '/' -> re.append('/');
        case '[' -> i = charClass(glob, i, re);
        case '{' -> {
          if (inGroup) {
            throw new PatternSyntaxException("cannot nest groups", glob, i - 1);
          }
          re.append("(?:(?:");
          inGroup = true;
        }
        case '}' -> {
          if (inGroup) {
            re.append("))");
            inGroup = false;
          } else {
            re.append('}');
          }
        }
        case ',' -> re.append(inGroup ? ")|(?:" : ",");
        case '*' -> {
          if (i < glob.length() && glob.charAt(i) == '*') {
            re.append(".*");
            i++;
          } else {
            re.append("[^/]*");
          }
        }
        case '?' -> re.append("[^/]");
        default -> {
          if (REGEX_META.indexOf(c) >= 0) {
            re.append('\\');
          }
          re.append(c);
        }
      }
    }
    if (inGroup) {
      throw new PatternSyntaxException("missing '}'", glob, glob.length() - 1);
    }
    return re.append('$').toString();
  }

  /** Appends the class starting after '[' at {@code i}; returns the index after its ']'. */
  private static int charClass(String glob, int i, StringBuilder re) {
    re.append("[[^/]&&["); // a class never matches the separator
    if (peek(glob, i) == '^') {
      re.append("\\^");
      i++;
    } else {
      if (peek(glob, i) == '!') {
        re.append('^');
        i++;
      }
      if (peek(glob, i) == '-') { // a leading '-' is literal
        re.append('-');
        i++;
      }
    }
    boolean rangeStart = false;
    char last = 0;
    while (i < glob.length()) {
      char c = glob.charAt(i++);
      if (c == ']') {
        re.append("]]");
        return i;
      }
      if (c == '/') {
        throw new PatternSyntaxException("explicit '/' in a class", glob, i - 1);
      }
      if (c == '\\' || c == '[' || (c == '&' && peek(glob, i) == '&')) {
        re.append('\\'); // literal inside a Java regex class
      }
      re.append(c);
      if (c != '-') {
        rangeStart = true;
        last = c;
        continue;
      }
      if (!rangeStart) {
        throw new PatternSyntaxException("invalid range", glob, i - 1);
      }
      char end = peek(glob, i);
      if (end == 0 || end == ']') {
        continue; // a trailing '-' is literal
      }
      i++;
      if (end < last) {
        throw new PatternSyntaxException("invalid range", glob, i - 3);
      }
      re.append(end);
      rangeStart = false;
    }
    throw new PatternSyntaxException("missing ']'", glob, i - 1);
  }

  private static char peek(String glob, int i) {
    return i < glob.length() ? glob.charAt(i) : 0;
  }
}
