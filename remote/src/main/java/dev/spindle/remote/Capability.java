package dev.spindle.remote;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * An unguessable 128-bit id that grants reading exactly one descriptor's pages until it expires or
 * is released. Compared in constant time: the page service answers strangers.
 */
public final class Capability {
  static final int BYTES = 16;
  private static final SecureRandom RANDOM = new SecureRandom();
  private final byte[] id;

  private Capability(byte[] id) {
    this.id = id;
  }

  public static Capability random() {
    byte[] b = new byte[BYTES];
    RANDOM.nextBytes(b);
    return new Capability(b);
  }

  static Capability of(byte[] b) {
    if (b.length != BYTES) {
      throw new IllegalArgumentException("a capability is " + BYTES + " bytes, got " + b.length);
    }
    return new Capability(b.clone());
  }

  byte[] bytes() {
    return id.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Capability c && java.security.MessageDigest.isEqual(id, c.id);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(id);
  }

  /** Only a prefix: capabilities are secrets and end up in logs. */
  @Override
  public String toString() {
    return "cap:" + HexFormat.of().formatHex(id, 0, 4) + "…";
  }
}
