package dev.spindle.daemon;

/**
 * A failure the client should see as-is: its HTTP status, a stable code a program can branch on,
 * and a message naming what was wrong.
 */
public final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public final int status;
  public final String code;

  public ApiError(int status, String code, String message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  static ApiError badRequest(String code, String message) {
    return new ApiError(400, code, message);
  }

  static ApiError notFound(String what) {
    return new ApiError(404, "not_found", what);
  }

  static ApiError conflict(String code, String message) {
    return new ApiError(409, code, message);
  }
}
