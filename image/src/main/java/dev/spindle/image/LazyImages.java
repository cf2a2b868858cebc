package dev.spindle.image;

import dev.spindle.store.AtomicFiles;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import org.eclipse.jgit.errors.IncorrectObjectTypeException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * Images between nodes. A node serves an image's file, its metadata image (commit, trees and path
 * index, no blob) and single blobs; a puller takes the whole file (verified, then stored), or only
 * the metadata image plus a marker naming the node: such a lazy image opens like any other, and
 * each blob is fetched on first read, checked against its id and kept in the home's object cache.
 *
 * <p>Why objects, not byte ranges of the PACK: a blob fetched by id is checked by its own id alone
 * (a PACK range holds deltas whose bases live elsewhere, so it cannot be checked by itself), and an
 * object cache keyed by id is shared by every image holding that blob.
 */
public final class LazyImages {
  private static final int PREFETCH_WORKERS = 8;

  private LazyImages() {}

  /** The object cache's counters (of this process) and contents (on disk). */
  public record CacheStats(
      long hits,
      long misses,
      long bytesFetched,
      long evictions,
      int objects,
      long bytes,
      long cap) {}

  /** The home's object cache, shared by all its lazily pulled images. */
  public static Path objectCache(SpindleHome home) {
    return home.root().resolve("objects");
  }

  /** Writes the metadata image of {@code image} (node side): its commit and trees, no blob. */
  public static void writeMetadata(Path image, Path out) throws IOException {
    try (Image img = Image.open(image, AccessMode.LAZY);
        FileChannel ch =
            FileChannel.open(
                out,
                StandardOpenOption.WRITE,
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
      new ImageWriter(ImageWriter.PackSettings.DEFAULT, Progress.NONE)
          .writeMetadata(
              img.repository(),
              img.header().commit(),
              img.pathIndexSection(),
              img.metadataSection(),
              ch);
    }
  }

  /** True for a Git object id as a request names it: 40 hexadecimal digits. */
  public static boolean isObjectId(String id) {
    return id.length() == Constants.OBJECT_ID_STRING_LENGTH && ObjectId.isId(id);
  }

  /** The content of blob {@code id} of {@code image} (node side), empty when it holds none. */
  public static Optional<byte[]> readBlob(Path image, String id) throws IOException {
    ObjectId oid = ObjectId.fromString(id);
    try (Image img = Image.open(image, AccessMode.LAZY);
        ObjectReader reader = img.repository().newObjectReader()) {
      return Optional.of(
          reader.open(oid, Constants.OBJ_BLOB).getCachedBytes(Integer.MAX_VALUE - 8));
    } catch (MissingObjectException | IncorrectObjectTypeException e) {
      return Optional.empty();
    }
  }

  /**
   * Fetches the whole image {@code remoteTag} from {@code node}, verifies it and stores it under
   * {@code tag}; a damaged image is refused and nothing is stored.
   */
  public static VerifyReport pull(
      SpindleHome home, Tag tag, URI node, String token, String remoteTag, Progress progress)
      throws IOException {
    ImageStore store = new ImageStore(home);
    Path target = store.path(tag);
    ImageOrigin images = ImageOrigin.of(new RemoteImage(node, remoteTag, token, objectCache(home)));
    Path tmp = download(images, target, true);
    Path tmpSig = ImageSignatures.signatureOf(tmp);
    try {
      fetchSignature(images, tmp);
      // The store checks the policy, verifies, and keeps the signature (or drops an older one).
      return store.store(
          tmp, tag, progress, remoteTag + " from " + node, signHint(remoteTag, node));
    } finally {
      Files.deleteIfExists(tmp);
      Files.deleteIfExists(tmpSig);
    }
  }

  /**
   * Fetches the node's signature of the image beside {@code tmp}, so the node's policy can be
   * checked before anything is stored; false when the node holds it unsigned.
   */
  private static boolean fetchSignature(ImageOrigin images, Path tmp) throws IOException {
    java.util.Optional<byte[]> sig = images.signature();
    if (sig.isPresent()) {
      Files.write(ImageSignatures.signatureOf(tmp), sig.get());
    }
    return sig.isPresent();
  }

  /** How to make a refused pull pass: the image is signed where it is served from. */
  private static String signHint(String remoteTag, URI node) {
    return "sign it with a key this node trusts where it comes from ('spindle image sign "
        + remoteTag
        + " --key KEY' on "
        + node
        + ", or before 'image push' to a bucket), then pull again";
  }

  /** The pulled image's signature goes beside it (or an older one goes away). */
  private static void keepSignature(boolean signed, Path tmpSig, Path target) throws IOException {
    Path sig = ImageSignatures.signatureOf(target);
    if (signed) {
      AtomicFiles.write(sig, Files.readAllBytes(tmpSig));
    } else {
      Files.deleteIfExists(sig);
    }
  }

  /**
   * Fetches only the metadata image of {@code remoteTag}, verifies it (trees hash to the root, the
   * path index matches them) and stores it under {@code tag} with a marker naming the node.
   */
  public static VerifyReport pullLazy(
      SpindleHome home, Tag tag, URI node, String token, String remoteTag, Progress progress)
      throws IOException {
    Path target = new ImageStore(home).path(tag);
    RemoteImage remote = new RemoteImage(node, remoteTag, token, objectCache(home));
    ImageOrigin images = ImageOrigin.of(remote);
    Path tmp = download(images, target, false);
    Path tmpSig = ImageSignatures.signatureOf(tmp);
    try {
      // The metadata image has the whole image's commit and root: the same signature covers it.
      boolean signed = fetchSignature(images, tmp);
      TrustedKeys.of(home)
          .require(tmp, null, remoteTag + " from " + node, signHint(remoteTag, node));
      VerifyReport r = new ImageVerifier(progress, true).verify(tmp);
      if (r.ok()) {
        // Marker first: an image file never exists without what it needs to read its blobs.
        remote.write(target);
        keepSignature(signed, tmpSig, target);
        AtomicFiles.publish(tmp, target);
      }
      return r;
    } finally {
      Files.deleteIfExists(tmp);
      Files.deleteIfExists(tmpSig);
    }
  }

  /**
   * Stores a lazy pull of an image whose whole file is read by byte ranges ({@link RemoteRanges}):
   * {@code metadataImage} (its commit, trees and path index, fetched by the caller and consumed
   * here), its {@code signature} if any, and {@code headerAndIdx}, the remote file's header and
   * IDX, which locate its blobs. Policy and verification as for a lazy pull from a node; the
   * metadata image must have the remote file's commit. Nothing is stored unless all pass.
   */
  public static VerifyReport pullLazyByRanges(
      SpindleHome home,
      Tag tag,
      Path metadataImage,
      Optional<byte[]> signature,
      URI source,
      String secret,
      byte[] headerAndIdx,
      long fileSize,
      String what,
      String signHint,
      Progress progress)
      throws IOException {
    ImageHeader remoteHeader = PackRangeOrigin.check(headerAndIdx, fileSize, what);
    Path target = new ImageStore(home).path(tag);
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp");
    Path tmpSig = ImageSignatures.signatureOf(tmp);
    try {
      Files.move(metadataImage, tmp, StandardCopyOption.REPLACE_EXISTING);
      if (signature.isPresent()) {
        Files.write(tmpSig, signature.get());
      }
      try (Image meta = Image.open(tmp, AccessMode.LAZY)) {
        if (!meta.header().commit().equals(remoteHeader.commit())) {
          throw new IOException(
              what
                  + ": its metadata image is of commit "
                  + meta.header().commit().name()
                  + ", the image of "
                  + remoteHeader.commit().name());
        }
      }
      TrustedKeys.of(home).require(tmp, null, what, signHint);
      VerifyReport r = new ImageVerifier(progress, true).verify(tmp);
      if (r.ok()) {
        // Sidecar and marker first: an image file never exists without what it needs to read its
        // blobs.
        AtomicFiles.write(PackRangeOrigin.sidecar(target), headerAndIdx);
        new RemoteImage(source, tag.value(), secret, objectCache(home)).write(target);
        keepSignature(signature.isPresent(), tmpSig, target);
        AtomicFiles.publish(tmp, target);
      }
      return r;
    } finally {
      Files.deleteIfExists(tmp);
      Files.deleteIfExists(tmpSig);
    }
  }

  private static Path download(ImageOrigin node, Path target, boolean whole) throws IOException {
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp");
    try (InputStream in = whole ? node.file() : node.metadata()) {
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      return tmp;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  /** What {@link #push} did. */
  public record Pushed(int blobs, int blobsPresent, long blobBytes, long imageBytes) {}

  /**
   * Pushes the whole image {@code file} as {@code tag} to the bucket {@code spec} ({@code
   * s3://BUCKET[/PREFIX]?endpoint=URL}, keys from {@code env}), laid out for whole and lazy pulls
   * ({@link BucketImages}); blobs the bucket holds already are not sent again.
   */
  public static Pushed push(
      Path file, String tag, String spec, java.util.Map<String, String> env, Progress progress)
      throws IOException {
    BucketImages.Pushed p =
        new BucketImages(dev.spindle.bucket.Bucket.open(spec, env, "image destination"), tag)
            .push(file, progress);
    return new Pushed(p.blobs(), p.blobsPresent(), p.blobBytes(), p.imageBytes());
  }

  /**
   * Fetches the blobs of {@code paths} (a profile's hot files, in recorded order) into the object
   * cache now, so a later run finds them local; paths the image lacks are skipped. Returns how many
   * files were read.
   */
  public static int prefetch(Path image, List<String> paths) throws IOException {
    // Eight fetches in flight, each worker taking every eighth path in recorded order: a lazy
    // image's blobs come one HTTP round trip each, so a 2 ms link made a sequential prefetch of a
    // python3 start (~500 files) cost more than fetching them on demand (bench/lazy).
    int workers = Math.min(PREFETCH_WORKERS, Math.max(1, paths.size()));
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    List<java.util.concurrent.Future<Void>> done = new java.util.ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(workers)) {
      for (int w = 0; w < workers; w++) {
        int first = w;
        done.add(
            pool.submit(
                () -> {
                  try (Image img = Image.open(image, AccessMode.INDEXED)) {
                    for (int i = first; i < paths.size(); i += workers) {
                      Optional<ImageEntry> e = img.lookup(paths.get(i));
                      if (e.isPresent()
                          && !e.get().isDirectory()
                          && e.get().mode() != ImageEntry.GITLINK) {
                        img.read(e.get());
                        n.incrementAndGet();
                      }
                    }
                  }
                  return null;
                }));
      }
      for (var f : done) {
        f.get();
      }
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("prefetch interrupted");
    }
    return n.get();
  }

  /** True when {@code image} was pulled lazily (its blobs come from a node). */
  public static boolean isLazy(Path image) {
    return RemoteImage.isLazy(image);
  }

  public static CacheStats cacheStats(SpindleHome home) throws IOException {
    return ObjectCache.of(objectCache(home)).stats();
  }

  /** Caps the home's object cache at {@code bytes} (kept on disk) and evicts down to it. */
  public static void cacheSize(SpindleHome home, long bytes) throws IOException {
    ObjectCache.of(objectCache(home)).cap(bytes);
  }
}
