package dev.spindle.remote;

import java.io.IOException;

/** The page service refused a request: unknown, released or expired capability, bad request. */
public final class PageServiceException extends IOException {
  private final int status;

  PageServiceException(int status, String message) {
    super("page service refused (" + status + "): " + message);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
