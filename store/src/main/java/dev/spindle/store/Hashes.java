package dev.spindle.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 without the checked exception: every JDK has it. */
public final class Hashes {
  private Hashes() {}

  /** A fresh SHA-256 digest, for hashing incrementally or a stream. */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  /** The SHA-256 of {@code bytes}. */
  public static byte[] sha256(byte[] bytes) {
    return sha256().digest(bytes);
  }

  /** The SHA-256 of {@code bytes}, in lower-case hex (64 digits). */
  public static String sha256Hex(byte[] bytes) {
    return HexFormat.of().formatHex(sha256(bytes));
  }
}
