package dev.spindle.image.lazy;

import java.io.IOException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * JGit's reader over a lazily pulled image: what the local PACK holds (commit, trees) comes from
 * it; a blob it lacks comes from {@link RemoteBlobs}. Being an ObjectReader, every consumer of an
 * image (lookups, reads, the NIO provider, FUSE) works unchanged.
 */
public final class LazyBlobReader extends ObjectReader.Filter {
  private final ObjectReader local;
  private final RemoteBlobs remote;

  public LazyBlobReader(ObjectReader local, RemoteBlobs remote) {
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
