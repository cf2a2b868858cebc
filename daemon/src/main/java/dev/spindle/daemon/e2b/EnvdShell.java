package dev.spindle.daemon.e2b;

import java.util.ArrayList;
import java.util.List;

/**
 * The SDK runs every command as {@code /bin/bash -l -c CMD}; a Python sandbox has no shell, so
 * {@code CMD} is split into words here the way bash would split a simple command: single quotes,
 * double quotes (with {@code \"}, {@code \\}, {@code \$}, {@code \`} escapes), backslashes, and a
 * tilde prefix as the home. Anything that needs a real shell (pipes, redirections, lists,
 * substitutions, variables, globs) is refused with a message saying what, never guessed at.
 */
final class EnvdShell {
  /**
   * What a command line could not be split into: the message tells the user what is not supported.
   */
  static final class Unsupported extends Exception {
    private static final long serialVersionUID = 1L;

    Unsupported(String message) {
      super(message, null, false, false);
    }
  }

  private EnvdShell() {}

  static List<String> words(String line) throws Unsupported {
    List<String> words = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    boolean inWord = false;
    int i = 0;
    int n = line.length();
    while (i < n) {
      char c = line.charAt(i);
      if (c == ' ' || c == '\t') {
        if (inWord) {
          words.add(w.toString());
          w.setLength(0);
          inWord = false;
        }
        i++;
      } else if (c == '\'') {
        int end = line.indexOf('\'', i + 1);
        if (end < 0) {
          throw new Unsupported("unterminated single quote");
        }
        w.append(line, i + 1, end);
        inWord = true;
        i = end + 1;
      } else if (c == '"') {
        i++;
        while (true) {
          if (i >= n) {
            throw new Unsupported("unterminated double quote");
          }
          char d = line.charAt(i);
          if (d == '"') {
            i++;
            break;
          }
          if (d == '\\' && i + 1 < n && "\"\\$`\n".indexOf(line.charAt(i + 1)) >= 0) {
            if (line.charAt(i + 1) != '\n') {
              w.append(line.charAt(i + 1));
            }
            i += 2;
            continue;
          }
          if (d == '$' || d == '`') {
            throw new Unsupported(
                "substitution ('"
                    + d
                    + "') inside double quotes needs a shell; quote it with single "
                    + "quotes to pass it literally");
          }
          w.append(d);
          i++;
        }
        inWord = true;
      } else if (c == '\\') {
        if (i + 1 >= n) {
          throw new Unsupported("a backslash at the end of the command");
        }
        if (line.charAt(i + 1) != '\n') {
          w.append(line.charAt(i + 1));
          inWord = true;
        }
        i += 2;
      } else if (c == '~'
          && tildePrefix(w, inWord)
          && (i + 1 == n || " \t/:".indexOf(line.charAt(i + 1)) >= 0)) {
        w.append(EnvdPath.HOME);
        inWord = true;
        i++;
      } else if ("|&;<>()`$*?[{}\n\r".indexOf(c) >= 0 || (c == '#' && !inWord)) {
        throw new Unsupported(
            describe(c) + " needs a shell, and a Python sandbox runs one command without one");
      } else {
        w.append(c);
        inWord = true;
        i++;
      }
    }
    if (inWord) {
      words.add(w.toString());
    }
    return words;
  }

  /**
   * Whether a {@code ~} here starts a tilde prefix: at a word's start, or (bash's rule for words
   * that look like assignments, arguments included) after the first {@code =} or a {@code :} of
   * one.
   */
  private static boolean tildePrefix(StringBuilder w, boolean inWord) {
    if (!inWord) {
      return true;
    }
    return w.toString().matches("[A-Za-z_][A-Za-z0-9_]*=(.*:)?");
  }

  private static String describe(char c) {
    return switch (c) {
      case '|' -> "a pipe ('|')";
      case '&', ';', '\n', '\r' -> "a list of commands ('&&', ';', '&' or a new line)";
      case '<', '>' -> "a redirection ('<' or '>')";
      case '(', ')', '{', '}' -> "a group or subshell";
      case '`', '$' -> "a substitution or variable ('$', '`')";
      case '#' -> "a comment";
      default -> "a glob ('*', '?', '[')";
    };
  }
}
