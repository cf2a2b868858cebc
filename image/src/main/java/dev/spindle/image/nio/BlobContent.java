package dev.spindle.image.nio;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/** The bytes of one blob, readable at any position; {@link BlobChannel} keeps the position. */
sealed interface BlobContent extends Closeable permits BufferedBlob, StreamedBlob {
  long size();

  /** Reads into {@code dst} from {@code position} (below {@link #size()}); returns the count. */
  int read(long position, ByteBuffer dst) throws IOException;
}
