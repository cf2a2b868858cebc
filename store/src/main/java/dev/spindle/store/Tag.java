package dev.spindle.store;

import java.util.regex.Pattern;

/**
 * The name an image or snapshot is stored under. Tags become file names, so the alphabet is closed:
 * letters, digits, '_' and '-', 1 to 64 characters (no '.', no '/', nothing to escape).
 */
public record Tag(String value) {
  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  public Tag {
    if (value == null || !VALID.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "invalid tag '" + value + "': use 1 to 64 of A-Z a-z 0-9 _ -");
    }
  }

  public static Tag of(String value) {
    return new Tag(value);
  }

  public static boolean isValid(String value) {
    return value != null && VALID.matcher(value).matches();
  }

  @Override
  public String toString() {
    return value;
  }
}
