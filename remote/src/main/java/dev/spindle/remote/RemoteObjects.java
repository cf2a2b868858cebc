package dev.spindle.remote;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a resumed child's files come from, as Git objects by id: the parent's page service
 * (GET_OBJECTS, under the descriptor's capability), else the fallback store the parent saved them
 * to. Nothing is trusted until it hashes to its id: each object's size is bounded before anything
 * is allocated for it (what arrives is buffered only as it arrives), it is assembled from the
 * parent's chunks, and its Git id ({@code SHA-1("<type> <size>\0" + content)}) is checked before it
 * is handed on to be stored. A failure names the object's id and each source's reason.
 */
public final class RemoteObjects {
  /** A checked object: Git's type ({@link GitObjects#COMMIT}, …) and content. */
  public record GitObject(int type, byte[] content) {}

  /** After the parent failed, go straight to the store for this long. */
  private static final long PARENT_BACKOFF_MS = 5_000;

  private final Descriptor d;
  private final PageClient parent;
  private final PageStore fallback;
  private volatile long parentDownUntil;
  private final AtomicLong bytesFetched = new AtomicLong();
  private final AtomicLong objectsFetched = new AtomicLong();
  private final AtomicLong fallbackObjects = new AtomicLong();

  RemoteObjects(Descriptor d, PageClient parent, PageStore fallback) {
    this.d = d;
    this.parent = parent;
    this.fallback = fallback;
  }

  /** Content bytes of the objects fetched and checked (from either source). */
  public long bytesFetched() {
    return bytesFetched.get();
  }

  public long objectsFetched() {
    return objectsFetched.get();
  }

  /** Objects that came from the fallback store. */
  public long fallbackObjects() {
    return fallbackObjects.get();
  }

  /**
   * The sizes of objects {@code ids} as the parent states them (its headers; no content moves), for
   * a file system that answers a file's size before its blob is read. Best effort: an object the
   * parent cannot size is left out, and a stated size is checked when the object comes (it is part
   * of what the id hashes).
   */
  public Map<String, Long> sizes(List<byte[]> ids, long maxSize) {
    Map<String, Long> out = new LinkedHashMap<>();
    if (System.currentTimeMillis() < parentDownUntil) {
      return out;
    }
    try {
      for (int from = 0; from < ids.size(); ) {
        int n = Math.min(PageProtocol.MAX_OBJECTS, ids.size() - from);
        byte[][] batch = ids.subList(from, from + n).toArray(byte[][]::new);
        long[] offsets = new long[n];
        java.util.Arrays.fill(offsets, -1);
        List<PageClient.ObjectPart> parts = parent.objects(d.capability(), batch, offsets, maxSize);
        for (PageClient.ObjectPart p : parts) {
          out.put(HexFormat.of().formatHex(p.id()), p.size());
        }
        from += parts.size();
      }
    } catch (IOException | RuntimeException e) {
      parentDownUntil = System.currentTimeMillis() + PARENT_BACKOFF_MS;
    }
    return out;
  }

  /**
   * Objects {@code ids} (20 bytes each), each checked against its id and no larger than {@code
   * maxSize} bytes, keyed by id in hex.
   *
   * @throws RemotePageException naming the first object neither source gave intact
   */
  public Map<String, GitObject> fetch(List<byte[]> ids, long maxSize) {
    Map<String, GitObject> out = new LinkedHashMap<>();
    Map<String, String> parentFailed = new LinkedHashMap<>();
    if (System.currentTimeMillis() >= parentDownUntil) {
      fromParent(ids, maxSize, out, parentFailed);
    } else {
      for (byte[] id : ids) {
        parentFailed.put(HexFormat.of().formatHex(id), "failed earlier (backing off)");
      }
    }
    for (Map.Entry<String, String> e : parentFailed.entrySet()) {
      out.put(e.getKey(), fromStore(e.getKey(), e.getValue(), maxSize));
    }
    return out;
  }

  /** Assembling one object from the parent's chunks. */
  private static final class Partial {
    final byte[] id;
    int type = -1;
    long size = -1;
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    Partial(byte[] id) {
      this.id = id;
    }
  }

  private void fromParent(
      List<byte[]> ids, long maxSize, Map<String, GitObject> out, Map<String, String> failed) {
    List<Partial> todo = new ArrayList<>();
    for (byte[] id : ids) {
      todo.add(new Partial(id));
    }
    String where = "parent " + d.host() + ":" + d.port();
    while (!todo.isEmpty()) {
      int n = Math.min(PageProtocol.MAX_OBJECTS, todo.size());
      byte[][] batch = new byte[n][];
      long[] offsets = new long[n];
      for (int k = 0; k < n; k++) {
        batch[k] = todo.get(k).id;
        offsets[k] = todo.get(k).bytes.size();
      }
      List<PageClient.ObjectPart> parts;
      try {
        parts = parent.objects(d.capability(), batch, offsets, maxSize);
      } catch (IOException | RuntimeException e) {
        parentDownUntil = System.currentTimeMillis() + PARENT_BACKOFF_MS;
        for (Partial p : todo) {
          failed.put(hex(p.id), "failed (" + e.getMessage() + ")");
        }
        return;
      }
      long got = 0;
      for (int k = 0; k < parts.size(); k++) {
        PageClient.ObjectPart part = parts.get(k);
        got += part.bytes().length;
        Partial p = todo.get(k);
        if (p.type >= 0 && (p.type != part.type() || p.size != part.size())) {
          failed.put(hex(p.id), "changed the object's type or size between chunks");
          p.size = -2;
          continue;
        }
        p.type = part.type();
        p.size = part.size();
        p.bytes.writeBytes(part.bytes());
      }
      List<Partial> next = new ArrayList<>();
      boolean completed = false;
      for (int k = 0; k < todo.size(); k++) {
        Partial p = todo.get(k);
        if (p.size == -2) {
          continue;
        }
        if (k >= parts.size() || p.bytes.size() < p.size) {
          next.add(p);
          continue;
        }
        completed = true;
        byte[] content = p.bytes.toByteArray();
        String why = check(p.id, p.type, content);
        if (why != null) {
          failed.put(hex(p.id), "sent an object that " + why);
        } else {
          out.put(hex(p.id), new GitObject(p.type, content));
          counted(content);
        }
      }
      if (got == 0 && !completed) {
        // A parent that sends nothing new would be asked for ever.
        for (Partial p : next) {
          failed.put(hex(p.id), where + " made no progress");
        }
        return;
      }
      todo = next;
    }
  }

  private void counted(byte[] content) {
    bytesFetched.addAndGet(content.length);
    objectsFetched.incrementAndGet();
  }

  /**
   * Object {@code idHex} from the store: its header read within a bound, its size bounded before
   * the content is read, the content read to one byte past the size (more is refused), then checked
   * against the id.
   */
  private GitObject fromStore(String idHex, String parentWhy, long maxSize) {
    String why = "object " + idHex + ": parent " + d.host() + ":" + d.port() + " " + parentWhy;
    if (fallback == null) {
      throw new RemotePageException(why + " and there is no fallback store");
    }
    Optional<InputStream> s;
    try {
      s = fallback.getObject(idHex);
    } catch (IOException e) {
      throw new RemotePageException(why + " and the store failed: " + e.getMessage());
    }
    if (s.isEmpty()) {
      throw new RemotePageException(why + " and the store has no such object");
    }
    try (InputStream in = s.get()) {
      byte[] header = new byte[32];
      int h = 0;
      int c;
      while ((c = in.read()) > 0 && h < header.length) {
        header[h++] = (byte) c;
      }
      String[] typeSize =
          c == 0 ? new String(header, 0, h, StandardCharsets.US_ASCII).split(" ", -1) : null;
      int type = typeSize == null || typeSize.length != 2 ? -1 : typeOf(typeSize[0]);
      long size =
          type < 0 || !typeSize[1].matches("[0-9]{1,18}") ? -1 : Long.parseLong(typeSize[1]);
      if (size < 0) {
        throw new RemotePageException(why + " and the store's copy has no Git object header");
      }
      if (size > maxSize) {
        throw new RemotePageException(
            why + " and the store's copy says " + size + " bytes, more than " + maxSize);
      }
      byte[] content = in.readNBytes((int) size + 1);
      if (content.length != size) {
        throw new RemotePageException(
            why + " and the store's copy is not the " + size + " bytes its header says");
      }
      String bad = check(HexFormat.of().parseHex(idHex), type, content);
      if (bad != null) {
        throw new RemotePageException(why + " and the store's copy " + bad);
      }
      fallbackObjects.incrementAndGet();
      counted(content);
      return new GitObject(type, content);
    } catch (IOException e) {
      throw new RemotePageException(why + " and reading the store failed: " + e.getMessage());
    }
  }

  /** Why {@code content} of {@code type} is not object {@code id}, or null when it is. */
  static String check(byte[] id, int type, byte[] content) {
    byte[] actual = gitId(type, content);
    if (actual == null) {
      return "has an unknown type " + type;
    }
    return java.util.Arrays.equals(actual, id)
        ? null
        : "hashes to " + hex(actual) + " (damaged or tampered; nothing stored)";
  }

  /** Git's id of an object: SHA-1 of {@code "<type> <size>\0"} and the content. */
  static byte[] gitId(int type, byte[] content) {
    String name = typeName(type);
    if (name == null) {
      return null;
    }
    MessageDigest sha1;
    try {
      sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-1", e);
    }
    sha1.update((name + " " + content.length + "\0").getBytes(StandardCharsets.US_ASCII));
    return sha1.digest(content);
  }

  /** The object as the store keeps it (Git's header, then the content). */
  public static byte[] raw(int type, byte[] content) {
    byte[] header =
        (typeName(type) + " " + content.length + "\0").getBytes(StandardCharsets.US_ASCII);
    byte[] b = new byte[header.length + content.length];
    System.arraycopy(header, 0, b, 0, header.length);
    System.arraycopy(content, 0, b, header.length, content.length);
    return b;
  }

  private static String typeName(int type) {
    return switch (type) {
      case GitObjects.COMMIT -> "commit";
      case GitObjects.TREE -> "tree";
      case GitObjects.BLOB -> "blob";
      case 4 -> "tag";
      default -> null;
    };
  }

  private static int typeOf(String name) {
    return switch (name) {
      case "commit" -> GitObjects.COMMIT;
      case "tree" -> GitObjects.TREE;
      case "blob" -> GitObjects.BLOB;
      case "tag" -> 4;
      default -> -1;
    };
  }

  private static String hex(byte[] id) {
    return HexFormat.of().formatHex(id);
  }
}
