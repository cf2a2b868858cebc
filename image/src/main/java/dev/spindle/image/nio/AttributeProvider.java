package dev.spindle.image.nio;

import java.util.List;
import java.util.stream.Stream;

/**
 * One attribute view's string form ({@code "view:name"}): its name, the attributes it has, and how
 * to get each from an entry's attributes. {@link AttributeService} parses requests and asks the
 * right provider; adding a view means adding a constant here.
 */
enum AttributeProvider {
  BASIC(
      "basic",
      List.of(
          "lastModifiedTime",
          "lastAccessTime",
          "creationTime",
          "size",
          "isRegularFile",
          "isDirectory",
          "isSymbolicLink",
          "isOther",
          "fileKey")) {
    @Override
    Object get(ImageFileAttributes a, String name) {
      return switch (name) {
        case "lastModifiedTime" -> a.lastModifiedTime();
        case "lastAccessTime" -> a.lastAccessTime();
        case "creationTime" -> a.creationTime();
        case "size" -> a.size();
        case "isRegularFile" -> a.isRegularFile();
        case "isDirectory" -> a.isDirectory();
        case "isSymbolicLink" -> a.isSymbolicLink();
        case "isOther" -> a.isOther();
        case "fileKey" -> a.fileKey();
        default -> null;
      };
    }
  },
  OWNER("owner", List.of("owner")) {
    @Override
    Object get(ImageFileAttributes a, String name) {
      return name.equals("owner") ? a.owner() : null;
    }
  },
  /** posix = basic + owner + permissions and group, as the JDK's posix view. */
  POSIX("posix", concat(BASIC.attributes, OWNER.attributes, List.of("permissions", "group"))) {
    @Override
    Object get(ImageFileAttributes a, String name) {
      return switch (name) {
        case "permissions" -> a.permissions();
        case "group" -> a.group();
        default -> {
          Object basic = BASIC.get(a, name);
          yield basic != null ? basic : OWNER.get(a, name);
        }
      };
    }
  },
  /**
   * unix = posix + the numbers, as the JDK's unix view names them: {@code mode} (st_mode, with
   * setuid, setgid and sticky), {@code uid}, {@code gid}, {@code nlink} (the entries sharing the
   * file through hard links; 1 for a directory, whose links an image does not count), and the rest
   * of the JDK's set, so that a caller asking for what it asks of the default file system ({@code
   * unix:dev,ino,nlink,ctime}, as WASI's filestat does) gets an answer: {@code dev} 0 (one image),
   * {@code rdev} 0 (no device files), {@code ctime} the image's time, and {@code ino} a number
   * shared by an entry's hard links (their link number) and otherwise stable per path.
   */
  UNIX(
      "unix",
      concat(
          POSIX.attributes,
          List.of("mode", "uid", "gid", "nlink", "dev", "ino", "rdev", "ctime"),
          List.of())) {
    @Override
    Object get(ImageFileAttributes a, String name) {
      return switch (name) {
        case "mode" -> a.mode();
        case "uid" -> a.meta().uid();
        case "gid" -> a.meta().gid();
        case "nlink" -> a.nlink();
        case "dev", "rdev" -> 0L;
        case "ino" ->
            a.meta().link() != 0
                ? (1L << 32) | a.meta().link()
                : Integer.toUnsignedLong(a.entry().path().hashCode());
        case "ctime" -> a.lastModifiedTime();
        default -> POSIX.get(a, name);
      };
    }
  },
  /**
   * Spindle's own: what Git stores, for tools that want the object id or the exact mode, and the
   * extended attributes (name to value; {@code security.capability} and the like).
   */
  SPINDLE("spindle", List.of("objectId", "gitMode", "xattrs")) {
    @Override
    Object get(ImageFileAttributes a, String name) {
      return switch (name) {
        case "objectId" -> a.objectId();
        case "gitMode" -> a.gitMode();
        case "xattrs" -> a.xattrs();
        default -> null;
      };
    }
  };

  final String viewName;
  final List<String> attributes;

  AttributeProvider(String viewName, List<String> attributes) {
    this.viewName = viewName;
    this.attributes = attributes;
  }

  /** The value of attribute {@code name} (one of {@link #attributes}). */
  abstract Object get(ImageFileAttributes a, String name);

  private static List<String> concat(List<String> a, List<String> b, List<String> c) {
    return Stream.of(a, b, c).flatMap(List::stream).toList();
  }
}
