package dev.spindle.image;

import dev.spindle.image.lazy.LazyBlobReader;
import dev.spindle.image.lazy.RemoteBlobs;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jgit.internal.storage.dfs.DfsObjDatabase;
import org.eclipse.jgit.internal.storage.dfs.DfsOutputStream;
import org.eclipse.jgit.internal.storage.dfs.DfsPackDescription;
import org.eclipse.jgit.internal.storage.dfs.DfsReaderOptions;
import org.eclipse.jgit.internal.storage.dfs.DfsReftableDatabase;
import org.eclipse.jgit.internal.storage.dfs.DfsRepository;
import org.eclipse.jgit.internal.storage.dfs.DfsRepositoryBuilder;
import org.eclipse.jgit.internal.storage.dfs.DfsRepositoryDescription;
import org.eclipse.jgit.internal.storage.dfs.ReadableChannel;
import org.eclipse.jgit.internal.storage.pack.PackExt;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.RefDatabase;

/**
 * A read-only JGit repository whose single pack is the PACK and IDX sections of an image file.
 * JGit's DFS layer is the seam for packs that do not live as {@code pack-*.pack} files (see
 * docs/PLATFORM-FACTS.md): it brings JGit's block cache, delta-base cache and object reader for
 * free.
 */
public final class ImageRepository extends DfsRepository {
  // JGit's block cache is global and keyed by repository name: give every open image its own.
  private static final AtomicLong OPENED = new AtomicLong();

  private final ObjDb objdb;
  private final RefDatabase refdb;
  private final RemoteBlobs remote; // null unless the image was pulled lazily

  private ImageRepository(Builder b, FileChannel file, ImageHeader h, RemoteBlobs remote) {
    super(b);
    this.remote = remote;
    objdb = new ObjDb(this, file, h);
    refdb = new DfsReftableDatabase(this) {};
  }

  static ImageRepository open(FileChannel file, ImageHeader h) throws IOException {
    return open(file, h, null);
  }

  /** {@code remote}: where blobs the PACK lacks come from (a lazily pulled image), or null. */
  static ImageRepository open(FileChannel file, ImageHeader h, RemoteBlobs remote)
      throws IOException {
    Builder b = new Builder();
    b.setRepositoryDescription(
        new DfsRepositoryDescription("spindle-image-" + OPENED.incrementAndGet()));
    return new ImageRepository(b, file, h, remote);
  }

  @Override
  public ObjectReader newObjectReader() {
    ObjectReader local = super.newObjectReader();
    return remote == null ? local : new LazyBlobReader(local, remote);
  }

  @Override
  public DfsObjDatabase getObjectDatabase() {
    return objdb;
  }

  @Override
  public RefDatabase getRefDatabase() {
    return refdb;
  }

  static final class Builder extends DfsRepositoryBuilder<Builder, ImageRepository> {
    @Override
    public ImageRepository build() {
      throw new UnsupportedOperationException("use ImageRepository.open");
    }
  }

  private static final class ObjDb extends DfsObjDatabase {
    private final FileChannel file;
    private final ImageHeader header;
    private final List<DfsPackDescription> packs;

    ObjDb(DfsRepository repo, FileChannel file, ImageHeader h) {
      super(repo, readerOptions());
      this.file = file;
      this.header = h;
      DfsPackDescription d =
          new DfsPackDescription(
              repo.getDescription(), "pack-" + h.commit().name(), PackSource.INSERT);
      d.addFileExt(PackExt.PACK);
      d.addFileExt(PackExt.INDEX);
      d.setFileSize(PackExt.PACK, h.packLength());
      d.setFileSize(PackExt.INDEX, h.idxLength());
      d.setObjectCount(h.objectCount());
      d.setIndexVersion(2);
      packs = List.of(d);
    }

    /**
     * A larger delta-base cache than JGit's 10 MB default: verify and random reads resolve long
     * delta chains, and a base evicted too early is inflated again for each of its children.
     */
    private static DfsReaderOptions readerOptions() {
      DfsReaderOptions o = new DfsReaderOptions();
      o.setDeltaBaseCacheLimit(64 << 20);
      return o;
    }

    @Override
    protected List<DfsPackDescription> listPacks() {
      return packs;
    }

    @Override
    protected ReadableChannel openFile(DfsPackDescription desc, PackExt ext)
        throws FileNotFoundException {
      return switch (ext) {
        case PACK -> new RegionChannel(file, header.packOffset(), header.packLength());
        case INDEX -> new RegionChannel(file, header.idxOffset(), header.idxLength());
        default -> throw new FileNotFoundException(desc.getFileName(ext));
      };
    }

    @Override
    protected DfsPackDescription newPack(PackSource source) {
      throw new UnsupportedOperationException("images are read-only");
    }

    @Override
    protected void commitPackImpl(
        Collection<DfsPackDescription> desc, Collection<DfsPackDescription> replace) {
      throw new UnsupportedOperationException("images are read-only");
    }

    @Override
    protected void rollbackPack(Collection<DfsPackDescription> desc) {}

    @Override
    protected DfsOutputStream writeFile(DfsPackDescription desc, PackExt ext) {
      throw new UnsupportedOperationException("images are read-only");
    }

    @Override
    public long getApproximateObjectCount() {
      return header.objectCount();
    }
  }
}
