package dev.spindle.sandbox;

/**
 * The guest was stopped because it hit one of the sandbox's limits; {@link #limit()} says which.
 */
public final class SandboxLimitException extends SandboxException {
  /** The limits a sandbox enforces. */
  public enum Limit {
    /** Wall-clock time of one run or reactor call. */
    TIMEOUT,
    /** Linear-memory pages. */
    MEMORY,
    /** Bytes captured from stdout or stderr. */
    OUTPUT
  }

  private final Limit limit;

  public SandboxLimitException(Limit limit, String message, Throwable cause) {
    super(limit + " limit: " + message, cause);
    this.limit = limit;
  }

  public Limit limit() {
    return limit;
  }
}
