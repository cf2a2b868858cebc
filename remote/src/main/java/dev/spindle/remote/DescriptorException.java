package dev.spindle.remote;

import java.io.IOException;

/** Descriptor bytes that are not a valid descriptor, with the byte offset of the problem. */
public final class DescriptorException extends IOException {
  private final int offset;

  public DescriptorException(int offset, String message) {
    super("descriptor: at byte " + offset + ": " + message);
    this.offset = offset;
  }

  public int offset() {
    return offset;
  }
}
