package dev.spindle.daemon.e2b;

/**
 * A failure of an envd call, in the shape the E2B SDK maps to its error classes: a Connect code for
 * the RPC services (answered as Connect's error JSON, or in a stream's end message) and the HTTP
 * status of the same failure for {@code /files} (answered as envd's {@code {code, message}}).
 */
final class EnvdError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The Connect codes envd answers, each with the HTTP status Connect gives it. */
  enum Code {
    CANCELED("canceled", 499),
    INVALID_ARGUMENT("invalid_argument", 400),
    DEADLINE_EXCEEDED("deadline_exceeded", 504),
    NOT_FOUND("not_found", 404),
    ALREADY_EXISTS("already_exists", 409),
    PERMISSION_DENIED("permission_denied", 403),
    RESOURCE_EXHAUSTED("resource_exhausted", 429),
    FAILED_PRECONDITION("failed_precondition", 400),
    UNIMPLEMENTED("unimplemented", 501),
    INTERNAL("internal", 500),
    UNAVAILABLE("unavailable", 503),
    UNAUTHENTICATED("unauthenticated", 401);

    final String wire;
    final int http;

    Code(String wire, int http) {
      this.wire = wire;
      this.http = http;
    }
  }

  final Code code;

  /** The HTTP status for {@code /files}, where envd's statuses differ from Connect's (507, 413). */
  final int http;

  EnvdError(Code code, String message) {
    this(code, code.http, message);
  }

  EnvdError(Code code, int http, String message) {
    super(message, null, false, false);
    this.code = code;
    this.http = http;
  }

  static EnvdError invalid(String message) {
    return new EnvdError(Code.INVALID_ARGUMENT, message);
  }

  static EnvdError notFound(String message) {
    return new EnvdError(Code.NOT_FOUND, message);
  }

  static EnvdError unimplemented(String message) {
    return new EnvdError(Code.UNIMPLEMENTED, message);
  }

  static EnvdError precondition(String message) {
    return new EnvdError(Code.FAILED_PRECONDITION, message);
  }
}
