package dev.spindle.image.lazy;

import java.io.IOException;

/**
 * Byte ranges of a whole image file kept somewhere a lazy reader cannot list objects by id (an OCI
 * registry holds it as one blob): {@link PackRangeOrigin} reads its blobs as PACK entries at the
 * offsets the image's IDX gives, each checked against its Git id by the object cache.
 */
public interface RemoteRanges extends AutoCloseable {
  /** Exactly {@code length} bytes at {@code offset} of the remote image file, or an IOException. */
  byte[] read(long offset, int length) throws IOException;

  @Override
  void close();

  /**
   * Opens the remote image a lazy marker names ({@code source}, with the secret the puller gave,
   * empty for none); found with {@link java.util.ServiceLoader}, so the image module needs no
   * transport of its own (the container module provides {@code docker://}).
   */
  interface Provider {
    boolean handles(String source);

    RemoteRanges open(String source, String secret) throws IOException;
  }

  /** The provider for {@code source}, or an IOException saying none is on the class path. */
  static RemoteRanges open(String source, String secret) throws IOException {
    for (Provider p :
        java.util.ServiceLoader.load(Provider.class, RemoteRanges.class.getClassLoader())) {
      if (p.handles(source)) {
        return p.open(source, secret);
      }
    }
    throw new IOException("no transport for the lazily pulled image's source " + source);
  }
}
