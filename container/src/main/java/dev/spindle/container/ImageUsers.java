package dev.spindle.container;

import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.PathResolver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Turns an image config's {@code User} ("", "uid", "uid:gid", "name", "name:group") into numeric
 * ids, reading names from the image's own /etc/passwd and /etc/group, as Docker does.
 */
public final class ImageUsers {
  private ImageUsers() {}

  /** {@code {uid, gid}}; root for an empty user. */
  public static int[] resolve(Image image, String user) throws IOException {
    if (user.isEmpty()) {
      return new int[] {0, 0};
    }
    String[] ug = user.split(":", 2);
    Integer uid = number(ug[0]);
    Integer gid = null;
    if (uid == null) {
      String[] pw =
          find(image, "etc/passwd", ug[0])
              .orElseThrow(
                  () -> new IOException("user '" + ug[0] + "' is not in the image's /etc/passwd"));
      uid = Integer.parseInt(pw[2]);
      gid = Integer.parseInt(pw[3]);
    }
    if (ug.length == 2) {
      gid = number(ug[1]);
      if (gid == null) {
        gid =
            Integer.parseInt(
                find(image, "etc/group", ug[1])
                    .orElseThrow(
                        () ->
                            new IOException(
                                "group '" + ug[1] + "' is not in the image's /etc/group"))[2]);
      }
    }
    return new int[] {uid, gid == null ? 0 : gid};
  }

  private static Integer number(String s) {
    return s.matches("\\d{1,9}") ? Integer.valueOf(s) : null;
  }

  /** The colon-separated fields of the line of {@code file} whose first field is {@code name}. */
  private static Optional<String[]> find(Image image, String file, String name) throws IOException {
    Optional<ImageEntry> e = new PathResolver(image).tryResolve(file, true);
    if (e.isEmpty() || !e.get().isRegularFile()) {
      return Optional.empty();
    }
    for (String line : new String(image.read(e.get()), StandardCharsets.UTF_8).split("\n")) {
      String[] f = line.split(":", -1);
      // passwd: name:x:uid:gid:...; group: name:x:gid:members
      boolean wellFormed =
          f.length >= 4 && number(f[2]) != null && (file.endsWith("group") || number(f[3]) != null);
      if (wellFormed && f[0].equals(name)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }
}
