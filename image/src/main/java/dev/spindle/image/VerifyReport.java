package dev.spindle.image;

import java.util.List;

/**
 * What {@code image verify} found. {@code commit} is null when the image is too damaged to read it;
 * {@code problems} is empty when every check passed.
 */
public record VerifyReport(
    CommitInfo commit, long objects, long unpackedBytes, List<Problem> problems) {

  /**
   * One damage found: the file offset where it is (-1 when it is not one place), the object it
   * concerns (null when none), and what is wrong.
   */
  public record Problem(long offset, String object, String message) {
    @Override
    public String toString() {
      StringBuilder s = new StringBuilder();
      if (object != null) {
        s.append("object ").append(object).append(' ');
      }
      if (offset >= 0) {
        s.append("at byte ").append(offset).append(": ");
      }
      return s.append(message).toString();
    }
  }

  public boolean ok() {
    return problems.isEmpty();
  }
}
