package dev.spindle.remote;

import java.io.IOException;

/**
 * A page service broke the protocol: a frame out of bounds, of another version or cut short, or an
 * answer that is not what was asked. Unlike a timeout or a closed connection, asking again would
 * only ask the same peer that just broke it, so the child turns to its store.
 */
final class PageProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  PageProtocolException(String message) {
    super(message);
  }
}
