package dev.spindle.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.eclipse.jgit.errors.CorruptObjectException;
import org.eclipse.jgit.errors.IncorrectObjectTypeException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectChecker;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * What a tree of an image may hold, checked by JGit's {@link ObjectChecker} (git fsck's rules): no
 * duplicate or unsorted entries, no empty name, no '.', '..' or '.git' (in any case), no '/' or NUL
 * in a name, no unknown mode. Make, verify (and so import and both pulls) all call this one class:
 * a tree holding a symlink {@code x} and a directory {@code x} hashes and packs fine, but
 * extracting it writes through the symlink, so it must be refused wherever an image comes in.
 */
public final class TreeChecks {
  private TreeChecks() {}

  /** A malformed tree: its id, and a message naming it and the entry at fault. */
  public record Problem(ObjectId tree, String message) {}

  private record Entry(int mode, int nameStart, int nameEnd, int end) {}

  /**
   * Checks every tree reachable from {@code root}, each once (a tree shared by many directories is
   * read once). A missing tree is skipped: the caller reports missing objects with their path.
   */
  public static List<Problem> checkAll(ObjectReader reader, ObjectId root) throws IOException {
    List<Problem> problems = new ArrayList<>();
    Set<ObjectId> seen = new HashSet<>();
    Deque<ObjectId> ids = new ArrayDeque<>();
    Deque<String> paths = new ArrayDeque<>();
    ids.add(root.copy());
    paths.add("");
    seen.add(root.copy());
    while (!ids.isEmpty()) {
      ObjectId id = ids.poll();
      String path = paths.poll();
      byte[] raw;
      try {
        raw = reader.open(id, Constants.OBJ_TREE).getCachedBytes();
      } catch (MissingObjectException e) {
        continue;
      } catch (IncorrectObjectTypeException e) {
        problems.add(
            new Problem(id, "/" + path + " is a directory but " + id.name() + " is not a tree"));
        continue;
      }
      String why = check(id, raw);
      if (why != null) {
        problems.add(new Problem(id, why + (path.isEmpty() ? "" : " (in /" + path + ")")));
      }
      // Children of a malformed tree are still checked, as far as its entries parse: the report
      // then names every bad tree, not only the first.
      for (Entry e : parse(raw)) {
        if (e.mode() == FileMode.TREE.getBits()) {
          ObjectId child = ObjectId.fromRaw(raw, e.end() - Constants.OBJECT_ID_LENGTH);
          if (seen.add(child)) {
            ids.add(child);
            paths.add(path + (path.isEmpty() ? "" : "/") + name(raw, e));
          }
        }
      }
    }
    return problems;
  }

  /** Null when git would accept tree {@code id} holding {@code raw}, else what is wrong. */
  static String check(ObjectId id, byte[] raw) {
    CorruptObjectException bad = run(id, raw, raw.length);
    if (bad == null) {
      return null;
    }
    // ObjectChecker says what is wrong but not where. Checks are in entry order and a prefix
    // that fails keeps failing as entries are added, so the first failing prefix (found by
    // bisection, not entry by entry, as a crafted tree may hold millions of entries) ends with
    // the entry at fault.
    List<Entry> entries = parse(raw);
    int lo = 0;
    int hi = entries.size();
    if (hi == 0 || run(id, raw, entries.get(hi - 1).end()) == null) {
      String after =
          hi == 0 ? "at its first entry" : "after entry '" + name(raw, entries.get(hi - 1)) + "'";
      return "tree " + id.name() + ": malformed " + after + ": " + reason(bad);
    }
    while (lo + 1 < hi) { // run(prefix of lo entries) passes, run(prefix of hi entries) fails
      int mid = (lo + hi) >>> 1;
      if (run(id, raw, entries.get(mid - 1).end()) == null) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    Entry e = entries.get(hi - 1);
    CorruptObjectException first = run(id, raw, e.end());
    return "tree " + id.name() + ": " + what(first, e) + " '" + name(raw, e) + "'";
  }

  private static CorruptObjectException run(ObjectId id, byte[] raw, int length) {
    // Not safe for Windows or macOS: images are extracted and mounted on Linux, where 'aux' or
    // 'a:b' are plain names. '.git' is refused in any case either way (ObjectChecker always
    // does), as git itself refuses it. A zero-padded mode ("040000") is allowed: old git wrote
    // such trees, git fsck only warns, and the mode means the same.
    ObjectChecker checker =
        new ObjectChecker()
            .setSafeForWindows(false)
            .setSafeForMacOS(false)
            .setAllowLeadingZeroFileMode(true);
    try {
      checker.checkTree(id, length == raw.length ? raw : Arrays.copyOf(raw, length));
      return null;
    } catch (CorruptObjectException e) {
      return e;
    }
  }

  private static String what(CorruptObjectException e, Entry entry) {
    if (e.getErrorType() == null) {
      // ObjectChecker throws a bad mode untyped (it cannot be ignored).
      return FileMode.fromBits(entry.mode()).getObjectType() == Constants.OBJ_BAD
          ? "bad mode " + Integer.toOctalString(entry.mode()) + " of entry"
          : "malformed (" + reason(e) + ") at entry";
    }
    return switch (e.getErrorType()) {
      case DUPLICATE_ENTRIES -> "duplicate entry name";
      case TREE_NOT_SORTED -> "entries out of order at";
      case EMPTY_NAME -> "empty entry name";
      case FULL_PATHNAME -> "'/' in entry name";
      case HAS_DOT, HAS_DOTDOT, HAS_DOTGIT -> "forbidden entry name";
      case NULL_SHA1 -> "null object id for entry";
      default -> reason(e) + " at entry";
    };
  }

  /** ObjectChecker's own words, without the error type and object id it may prefix them with. */
  private static String reason(CorruptObjectException e) {
    String m = String.valueOf(e.getMessage());
    int colon = m.lastIndexOf(": ");
    return colon < 0 ? m : m.substring(colon + 2);
  }

  /** The entries of {@code raw} up to the first one that does not parse. */
  private static List<Entry> parse(byte[] raw) {
    List<Entry> entries = new ArrayList<>();
    int p = 0;
    while (p < raw.length) {
      int mode = 0;
      int digits = 0;
      while (p < raw.length && raw[p] >= '0' && raw[p] <= '7' && digits < 8) {
        mode = (mode << 3) | (raw[p++] - '0');
        digits++;
      }
      if (digits == 0 || p >= raw.length || raw[p] != ' ') {
        break;
      }
      int nameStart = ++p;
      while (p < raw.length && raw[p] != 0) {
        p++;
      }
      int nameEnd = p;
      int end = p + 1 + Constants.OBJECT_ID_LENGTH;
      if (p >= raw.length || end > raw.length) {
        break;
      }
      entries.add(new Entry(mode, nameStart, nameEnd, end));
      p = end;
    }
    return entries;
  }

  /** The entry's name, control bytes escaped so that a message shows what the tree holds. */
  private static String name(byte[] raw, Entry e) {
    String s = new String(raw, e.nameStart(), e.nameEnd() - e.nameStart(), StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder();
    s.codePoints()
        .forEach(
            c -> {
              if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", c));
              } else {
                b.appendCodePoint(c);
              }
            });
    return b.toString();
  }
}
