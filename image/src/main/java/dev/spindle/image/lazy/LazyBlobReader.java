package dev.spindle.image.lazy;

import java.io.IOException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * JGit's reader over objects of which the blobs may be elsewhere: what the local objects hold
 * (commit, trees) come from them; a blob they lack comes from {@link Blobs} (for a lazily pulled
 * image, {@link RemoteBlobs}; for a remote-forked sandbox's files, its parent's node). Being an
 * ObjectReader, every consumer of an image (lookups, reads, the NIO provider, FUSE) works
 * unchanged.
 */
public final class LazyBlobReader extends ObjectReader.Filter {
  /**
   * The blobs that are not local: which they are (named by the local trees), their sizes, and their
   * bytes, each checked against its id before it is returned.
   */
  public interface Blobs {
    boolean holds(AnyObjectId id);

    long size(AnyObjectId id) throws IOException;

    byte[] read(AnyObjectId id) throws IOException;
  }

  private final ObjectReader local;
  private final Blobs remote;

  public LazyBlobReader(ObjectReader local, Blobs remote) {
    this.local = local;
    this.remote = remote;
  }

  @Override
  protected ObjectReader delegate() {
    return local;
  }

  @Override
  public ObjectReader newReader() {
    return new LazyBlobReader(local.newReader(), remote);
  }

  @Override
  public boolean has(AnyObjectId id) throws IOException {
    return local.has(id) || remote.holds(id);
  }

  @Override
  public boolean has(AnyObjectId id, int type) throws IOException {
    return local.has(id, type) || (blobType(type) && remote.holds(id));
  }

  @Override
  public ObjectLoader open(AnyObjectId id) throws IOException {
    return open(id, OBJ_ANY);
  }

  @Override
  public ObjectLoader open(AnyObjectId id, int type) throws IOException {
    try {
      return local.open(id, type);
    } catch (MissingObjectException e) {
      if (!blobType(type) || !remote.holds(id)) {
        throw e;
      }
      return new ObjectLoader.SmallObject(Constants.OBJ_BLOB, remote.read(id));
    }
  }

  @Override
  public long getObjectSize(AnyObjectId id, int type) throws IOException {
    try {
      return local.getObjectSize(id, type);
    } catch (MissingObjectException e) {
      if (!blobType(type) || !remote.holds(id)) {
        throw e;
      }
      return remote.size(id);
    }
  }

  private static boolean blobType(int type) {
    return type == OBJ_ANY || type == Constants.OBJ_BLOB;
  }
}
