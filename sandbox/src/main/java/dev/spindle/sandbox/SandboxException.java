package dev.spindle.sandbox;

/** The guest could not be instantiated or trapped; the host is unaffected. */
public class SandboxException extends RuntimeException {
  public SandboxException(String message, Throwable cause) {
    super(message, cause);
  }
}
