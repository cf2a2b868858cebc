package dev.spindle.image.trust;

import dev.spindle.image.ImageHeader;
import dev.spindle.store.AtomicFiles;
import dev.spindle.store.SpindleHome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A node's signature policy: the public keys it trusts, as {@code
 * HOME/trusted-keys/<fingerprint>.pub}. With none, images are used as they are; with at least one,
 * this node pulls, mounts and runs only images signed by one of them ({@link #require}), and says
 * which check failed: unsigned, signed by a key it does not trust, or altered since it was signed.
 * As every byte of an image hashes up to the signed commit and root, the signature also covers each
 * file a lazy image fetches later.
 */
public final class TrustedKeys {
  private final Path dir;

  private TrustedKeys(Path dir) {
    this.dir = dir;
  }

  public static TrustedKeys of(SpindleHome home) {
    return new TrustedKeys(home.trustedKeys());
  }

  /** The trusted keys' files, by fingerprint order. */
  public List<Path> keys() throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".pub")).sorted().toList();
    }
  }

  /** Whether this node requires signatures (it trusts at least one key). */
  public boolean enforced() throws IOException {
    return !keys().isEmpty();
  }

  /** Trusts {@code publicKey} (a copy is kept); returns its fingerprint. */
  public String trust(Path publicKey) throws IOException {
    String fp = ImageSignatures.fingerprint(publicKey);
    Files.createDirectories(dir);
    AtomicFiles.write(dir.resolve(fp + ".pub"), Files.readAllBytes(publicKey));
    return fp;
  }

  /** Stops trusting the key with this fingerprint; false when it was not trusted. */
  public boolean untrust(String fingerprint) throws IOException {
    if (!fingerprint.matches("[0-9a-f]{16}")) {
      throw new IOException(
          "'"
              + fingerprint
              + "' is not a key fingerprint (16 hex digits, as 'spindle key list' shows)");
    }
    return Files.deleteIfExists(dir.resolve(fingerprint + ".pub"));
  }

  /**
   * Refuses {@code image} (what the user called it: {@code what}) unless this node does not enforce
   * signatures or its signature is by a trusted key and matches its commit and root. Returns the
   * signer's fingerprint, or empty when nothing is enforced.
   *
   * @throws ImageSignatures.RefusedException saying which check failed
   */
  public Optional<String> require(Path image, String what) throws IOException {
    return require(image, null, what, null);
  }

  /**
   * {@link #require(Path, String)} against {@code header}, the image as its user opened it (null:
   * read it from the file), so the check covers the bytes in use. {@code fix}, when not null, ends
   * each refusal: how to make the image usable here.
   */
  public Optional<String> require(Path image, ImageHeader header, String what, String fix)
      throws IOException {
    List<Path> keys = keys();
    if (keys.isEmpty()) {
      return Optional.empty();
    }
    String how = fix == null ? "" : "; " + fix;
    String policy =
        " (this node trusts "
            + keys.size()
            + " key"
            + (keys.size() == 1 ? "" : "s")
            + ": 'spindle key list')";
    Optional<String> signer = ImageSignatures.signer(image);
    if (signer.isEmpty()) {
      throw new ImageSignatures.RefusedException(
          what
              + " is unsigned, and this node requires a signature by a "
              + "trusted key"
              + policy
              + how);
    }
    Path key = dir.resolve(signer.get() + ".pub");
    if (!keys.contains(key)) {
      List<String> trusted = new ArrayList<>();
      keys.forEach(k -> trusted.add(k.getFileName().toString().replace(".pub", "")));
      throw new ImageSignatures.RefusedException(
          what
              + " is signed by key "
              + signer.get()
              + ", which this node does not trust (trusted: "
              + String.join(", ", trusted)
              + ")"
              + how);
    }
    try {
      return Optional.of(
          header == null
              ? ImageSignatures.verify(image, key)
              : ImageSignatures.verify(image, header, key));
    } catch (ImageSignatures.RefusedException e) {
      throw new ImageSignatures.RefusedException(what + ": " + e.getMessage() + how);
    }
  }
}
