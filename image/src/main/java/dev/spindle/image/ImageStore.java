package dev.spindle.image;

import dev.spindle.image.lazy.PackRangeOrigin;
import dev.spindle.image.lazy.RemoteImage;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.image.trust.ImageSignatures;
import dev.spindle.image.trust.TrustedKeys;
import dev.spindle.store.AtomicFiles;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.store.TagStore;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Images by tag under the Spindle home: {@code images/<tag>.img}, each written atomically.
 *
 * <p>This is where the node's signature policy ({@link TrustedKeys}) is enforced, once for every
 * use: whatever reads an image's contents to run, mount, extract or copy them (run, container run,
 * mount, ls, cat, stat, extract, debloat, a daemon's sandbox from an image, quickstart) gets it
 * from {@link #open} or {@link #usable}, and whatever brings an image in (import, pull) goes
 * through {@link #importFile}; each refuses an image not signed by a trusted key, naming it and
 * saying how to fix it. An image file from outside the store is also verified whole first, as the
 * signature covers only its commit and root. The unchecked ways are named so ({@link
 * #locateUnchecked}, {@link #path}) and serve what must work on any image in the store: {@code
 * image sign} (an unsigned image is what it is for), {@code image verify} and {@code doctor} (they
 * report on an image, they do not use it), {@code image ls} and {@code rm} (the catalog), {@code
 * export}, {@code push} and the daemon's image file routes (the bytes leave as they are, with their
 * signature: the receiving node applies its own policy), and writing a new image ({@code make}, OCI
 * import: the result is unsigned and, under a policy, unusable until signed).
 */
public final class ImageStore {
  public static final String SUFFIX = ".img";

  private final TagStore tags;
  private final TrustedKeys trusted;

  public ImageStore(SpindleHome home) {
    this.tags = new TagStore(home.images(), SUFFIX);
    this.trusted = TrustedKeys.of(home);
  }

  /**
   * Where the file of {@code tag} is (or would be written), unchecked: for writing it and for the
   * exempt operations of the class comment, never for using its contents ({@link #open}).
   */
  public Path path(Tag tag) {
    return tags.path(tag);
  }

  public boolean exists(Tag tag) {
    return tags.exists(tag);
  }

  public List<Tag> list() throws IOException {
    return tags.list();
  }

  /** Removes the image and what lives beside it under the same tag (e.g. an OCI run config). */
  public boolean delete(Tag tag) throws IOException {
    boolean deleted = tags.delete(tag);
    Files.deleteIfExists(tags.directory().resolve(tag.value() + ".oci.json"));
    Files.deleteIfExists(RemoteImage.marker(tags.path(tag)));
    Files.deleteIfExists(PackRangeOrigin.sidecar(tags.path(tag)));
    Files.deleteIfExists(ImageSignatures.signatureOf(tags.path(tag)));
    return deleted;
  }

  /** Makes an image of {@code source} under {@code tag}. */
  public ImageHeader make(String source, Tag tag, MakeOptions options, Progress progress)
      throws IOException {
    Files.createDirectories(tags.directory());
    return new ImageMaker(options, progress).make(source, tags.path(tag));
  }

  /**
   * Brings an image file in under {@code tag}: a private copy of it (and of its signature {@code
   * FILE.sig}, if beside it) is checked against the node's policy, then verified whole, and only
   * then stored with its signature. A refused file throws and a damaged one is reported; either way
   * nothing is stored. Under a policy the signature is required: an unsigned file could be stored,
   * but nothing here could use it, so it is refused where the operator can still sign it.
   */
  public VerifyReport importFile(Path file, Tag tag, Progress progress) throws IOException {
    Path target = tags.path(tag);
    Files.createDirectories(tags.directory());
    Path tmp = Files.createTempFile(tags.directory(), "." + target.getFileName() + ".", ".tmp");
    Path tmpSig = ImageSignatures.signatureOf(tmp);
    try {
      // Copies, so what is checked is what is stored, whatever happens to FILE meanwhile.
      Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Path sig = ImageSignatures.signatureOf(file);
      if (Files.isRegularFile(sig)) {
        Files.copy(sig, tmpSig, StandardCopyOption.REPLACE_EXISTING);
      }
      return store(
          tmp,
          tag,
          progress,
          "image file '" + file + "'",
          "to import it, sign it with a trusted key first: 'spindle image sign "
              + file
              + " --key KEY' writes "
              + sig.getFileName()
              + " beside it, which import takes along");
    } finally {
      Files.deleteIfExists(tmp);
      Files.deleteIfExists(tmpSig);
    }
  }

  /**
   * Stores {@code tmp}, a private image file in the images directory whose signature (if any) is
   * beside it, under {@code tag}: the node's policy first ({@code what} names it in a refusal,
   * {@code fix} says what to do), then a whole verification. The signature goes with the image; an
   * earlier one of the tag goes away. {@code tmp} is moved: the caller deletes what is left.
   */
  public VerifyReport store(Path tmp, Tag tag, Progress progress, String what, String fix)
      throws IOException {
    trusted.require(tmp, null, what, fix);
    VerifyReport r = new ImageVerifier(progress).verify(tmp);
    if (r.ok()) {
      Path target = tags.path(tag);
      Path tmpSig = ImageSignatures.signatureOf(tmp);
      Path sig = ImageSignatures.signatureOf(target);
      AtomicFiles.publish(tmp, target);
      Files.deleteIfExists(RemoteImage.marker(target)); // a whole image now, not lazy
      Files.deleteIfExists(PackRangeOrigin.sidecar(target));
      // After the image: in between, the old signature does not match the new commit, so a
      // policy refuses the image rather than letting it pass under another's signature.
      if (Files.isRegularFile(tmpSig)) {
        AtomicFiles.write(sig, Files.readAllBytes(tmpSig));
      } else {
        Files.deleteIfExists(sig);
      }
    }
    return r;
  }

  /** Writes the image under {@code tag} to {@code file} (one self-contained file). */
  public void export(Tag tag, Path file) throws IOException {
    Path image = tags.require(tag);
    AtomicFiles.copy(image, file);
    // The signature travels with the file, so a node that trusts its key can import it.
    Path sig = ImageSignatures.signatureOf(image);
    if (Files.isRegularFile(sig)) {
      AtomicFiles.copy(sig, ImageSignatures.signatureOf(file));
    } else {
      Files.deleteIfExists(ImageSignatures.signatureOf(file)); // not another image's
    }
  }

  /**
   * The image file a user named: a tag in this store, else a path to an image file. Says which when
   * neither exists. Unchecked: only for the exempt operations of the class comment; to use the
   * image, {@link #open} or {@link #usable}.
   */
  public Path locateUnchecked(String tagOrFile) throws IOException {
    if (Tag.isValid(tagOrFile) && tags.exists(Tag.of(tagOrFile))) {
      return tags.path(Tag.of(tagOrFile));
    }
    Path p = Path.of(tagOrFile);
    if (Files.isRegularFile(p)) {
      return p;
    }
    throw new NoSuchFileException(
        tagOrFile,
        null,
        "no image tagged '" + tagOrFile + "' in " + tags.directory() + " and no such file");
  }

  /**
   * Opens the image a user named (a tag, else a file) to use its contents, under the node's
   * signature policy: the signature is checked against the header of the file as opened.
   *
   * @throws ImageSignatures.RefusedException naming the image, why, and how to fix it
   */
  public Image open(String tagOrFile, AccessMode mode) throws IOException {
    return checked(locateUnchecked(tagOrFile), tagOrFile, mode);
  }

  /** {@link #open(String, AccessMode)} of a tag of this store. */
  public Image open(Tag tag, AccessMode mode) throws IOException {
    return checked(tags.require(tag), tag.value(), mode);
  }

  /**
   * The file of the image a user named, checked against the node's signature policy, for a user
   * that opens it itself (a file system, a container's mount). {@link #open} binds the check to the
   * bytes read; prefer it where an {@link Image} will do.
   *
   * @throws ImageSignatures.RefusedException naming the image, why, and how to fix it
   */
  public Path usable(String tagOrFile) throws IOException {
    Path p = locateUnchecked(tagOrFile);
    trusted.require(p, null, "image '" + tagOrFile + "'", signHint(tagOrFile));
    requireIntact(p, tagOrFile);
    return p;
  }

  private Image checked(Path file, String name, AccessMode mode) throws IOException {
    Image img;
    try {
      img = Image.open(file, mode);
    } catch (IOException e) {
      // Opening reads the commit (the metadata's hash): an altered outside file can fail there
      // first, and the verifier says precisely what does not hash up.
      requireIntact(file, name);
      throw e;
    }
    try {
      trusted.require(file, img.header(), "image '" + name + "'", signHint(name));
      requireIntact(file, name);
      return img;
    } catch (IOException | RuntimeException e) {
      img.close();
      throw e;
    }
  }

  /**
   * Under a policy, a file from outside the store is verified whole before it is used: a signature
   * covers the commit and root, and only the verifier proves the bytes hash up to them (a copied
   * signature beside altered content would pass otherwise). A stored image was verified on its way
   * in (make, import, pull), so it is not rehashed on every use.
   */
  private void requireIntact(Path file, String name) throws IOException {
    if (stored(file) || !trusted.enforced()) {
      return;
    }
    VerifyReport r = new ImageVerifier(Progress.NONE).verify(file);
    if (!r.ok()) {
      throw new ImageSignatures.RefusedException(
          "image '"
              + name
              + "' does not hash up to the commit and root its "
              + "signature covers ("
              + r.problems().getFirst()
              + "): it was altered after signing, or is damaged; "
              + "get an intact copy ('spindle image verify "
              + name
              + "' names every damage)");
    }
  }

  private boolean stored(Path file) {
    Path dir = file.toAbsolutePath().normalize().getParent();
    return dir != null && dir.equals(tags.directory().toAbsolutePath().normalize());
  }

  private static String signHint(String name) {
    return "to use it, sign it with a key this node trusts: 'spindle image sign "
        + name
        + " --key KEY' (KEY.pub being a key given to 'spindle key trust')";
  }
}
