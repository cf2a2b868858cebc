package dev.spindle.image;

import java.io.IOException;

/** Bytes of an image that are not what the format says, with the file offset of the problem. */
public final class ImageFormatException extends IOException {
  private final long offset;

  public ImageFormatException(String file, long offset, String message) {
    super(offset >= 0 ? file + ": at byte " + offset + ": " + message : file + ": " + message);
    this.offset = offset;
  }

  /** The file offset where the damage was found, or -1 when it is not one place. */
  public long offset() {
    return offset;
  }
}
