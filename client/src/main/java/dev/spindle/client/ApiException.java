package dev.spindle.client;

/** The node answered with an error: its HTTP status, stable code and message. */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;

  public ApiException(int status, String code, String message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  @Override
  public String toString() {
    return "HTTP " + status + " " + code + ": " + getMessage();
  }
}
