package dev.spindle.daemon;

import dev.spindle.store.AtomicFiles;
import dev.spindle.store.SpindleHome;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The node's bearer token: 32 random bytes in hex, generated on first start into {@code
 * <home>/daemon.token} with mode 0600 (only the owner can read it, so only the owner, or whoever
 * they hand it to, can drive the node) and reused after.
 */
public final class TokenFile {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  private TokenFile() {}

  static Path path(SpindleHome home) {
    return home.token();
  }

  static String loadOrCreate(SpindleHome home) throws IOException {
    Path file = path(home);
    if (Files.isRegularFile(file)) {
      String t = Files.readString(file).strip();
      if (t.length() >= 32) {
        // Tighten a token file someone loosened: the token is a credential.
        Files.setPosixFilePermissions(file, OWNER_ONLY);
        return t;
      }
    }
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    String token = HexFormat.of().formatHex(b);
    // Created 0600 before the secret is written into it; the rename keeps the mode.
    Files.createDirectories(home.root());
    Path tmp =
        Files.createTempFile(
            home.root(),
            ".daemon.token.",
            ".tmp",
            PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap((token + "\n").getBytes(StandardCharsets.US_ASCII)));
        ch.force(true);
      }
      AtomicFiles.publish(tmp, file);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return token;
  }

  /** Compares in constant time, so response timing does not leak how much of a guess was right. */
  public static boolean matches(String expected, String given) {
    return given != null
        && MessageDigest.isEqual(
            expected.getBytes(StandardCharsets.US_ASCII),
            given.getBytes(StandardCharsets.US_ASCII));
  }
}
