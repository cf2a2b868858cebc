package dev.spindle.image.trust;

import dev.spindle.image.Image;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.ImageVerifier;
import dev.spindle.store.AtomicFiles;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Properties;

/**
 * Ed25519 signatures of images (the JDK's own). What is signed is the image's commit id and root
 * tree id: with {@link ImageVerifier} proving every byte hashes up to them, a good signature covers
 * the whole image. The signature lives beside the image ({@code <tag>.img.sig}) with the signing
 * key's fingerprint, so a refusal can say whether the image is unsigned, signed by another key, or
 * altered after signing.
 */
public final class ImageSignatures {
  public static final String SUFFIX = ".sig";
  private static final String ALGORITHM = "Ed25519";
  private static final String CONTEXT = "spindle image signature v1\n";

  private ImageSignatures() {}

  /** A signature check that failed; the message says why, for the user. */
  public static final class RefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    public RefusedException(String message) {
      super(message);
    }
  }

  public static Path signatureOf(Path image) {
    return image.resolveSibling(image.getFileName() + SUFFIX);
  }

  /**
   * Writes a new key pair: {@code key} (private, PKCS#8, base64, mode 0600) and {@code key.pub}.
   */
  public static String newKey(Path key) throws IOException {
    KeyPair pair;
    try {
      pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IOException("this JDK cannot make Ed25519 keys: " + e.getMessage(), e);
    }
    if (Files.exists(key)) {
      throw new IOException(key + " exists: not overwriting a key");
    }
    AtomicFiles.write(key, base64(pair.getPrivate().getEncoded())); // a temp file: 0600
    AtomicFiles.write(publicOf(key), base64(pair.getPublic().getEncoded()));
    return fingerprint(pair.getPublic());
  }

  /**
   * Signs {@code image} with the private {@code key} (its {@code .pub} beside it); returns the
   * file.
   */
  public static Path sign(Path image, Path key) throws IOException {
    PrivateKey priv;
    PublicKey pub;
    try {
      KeyFactory kf = KeyFactory.getInstance(ALGORITHM);
      priv = kf.generatePrivate(new PKCS8EncodedKeySpec(decode(key)));
      pub = readPublic(publicOf(key));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(
          key + ": not an Ed25519 private key made by 'spindle key new': " + e.getMessage(), e);
    }
    ImageHeader h = header(image);
    byte[] sig;
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(priv);
      s.update(message(h));
      sig = s.sign();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot sign " + image + ": " + e.getMessage(), e);
    }
    Properties p = new Properties();
    p.setProperty("format", "1");
    p.setProperty("key", fingerprint(pub));
    p.setProperty("commit", h.commit().name());
    p.setProperty("root", h.root().name());
    p.setProperty("signature", Base64.getEncoder().encodeToString(sig));
    StringWriter w = new StringWriter();
    p.store(w, "Ed25519 signature of the image's commit and root");
    Path out = signatureOf(image);
    AtomicFiles.write(out, w.toString().getBytes(StandardCharsets.UTF_8));
    return out;
  }

  /**
   * Checks that {@code image} carries a signature by {@code publicKey} over its current commit and
   * root; returns the key's fingerprint. Does not check the image's bytes: run {@link
   * ImageVerifier} too.
   */
  public static String verify(Path image, Path publicKey) throws IOException {
    return verify(image, header(image), publicKey);
  }

  /**
   * {@link #verify(Path, Path)} against {@code h}, the header of the image as a caller opened it:
   * the check then covers the bytes in use, not whatever the path names a moment later.
   */
  static String verify(Path image, ImageHeader h, Path publicKey) throws IOException {
    PublicKey trusted;
    try {
      trusted = readPublic(publicKey);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(
          publicKey
              + ": not an Ed25519 public key (KEY.pub of 'spindle key new'): "
              + e.getMessage(),
          e);
    }
    Path sigFile = signatureOf(image);
    Properties p = new Properties();
    try {
      p.load(new StringReader(Files.readString(sigFile, StandardCharsets.UTF_8)));
    } catch (NoSuchFileException e) {
      throw new RefusedException(
          image + " is unsigned (no " + sigFile.getFileName() + "): refused");
    }
    String want = fingerprint(trusted);
    String by = p.getProperty("key", "?");
    if (!want.equals(by)) {
      throw new RefusedException(
          image + " is signed by key " + by + ", not by the trusted key " + want + ": refused");
    }
    boolean ok;
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(trusted);
      s.update(message(h));
      ok = s.verify(Base64.getDecoder().decode(p.getProperty("signature", "")));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      ok = false;
    }
    if (!ok) {
      throw new RefusedException(
          "the signature of "
              + image
              + " does not match its commit and root "
              + "(the image or its signature was altered after signing): refused");
    }
    return want;
  }

  /** The fingerprint of a public key file ({@code KEY.pub} of {@code spindle key new}). */
  public static String fingerprint(Path publicKey) throws IOException {
    try {
      return fingerprint(readPublic(publicKey));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(
          publicKey
              + ": not an Ed25519 public key (KEY.pub of 'spindle key new'): "
              + e.getMessage(),
          e);
    }
  }

  /** The fingerprint of the key that signed {@code image}, if it carries a signature. */
  static java.util.Optional<String> signer(Path image) throws IOException {
    Properties p = new Properties();
    try {
      p.load(new StringReader(Files.readString(signatureOf(image), StandardCharsets.UTF_8)));
    } catch (NoSuchFileException e) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(p.getProperty("key", "?"));
  }

  private static ImageHeader header(Path image) throws IOException {
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
      return Image.readHeader(image, ch);
    }
  }

  private static byte[] message(ImageHeader h) {
    return (CONTEXT + "commit " + h.commit().name() + "\nroot " + h.root().name() + "\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static PublicKey readPublic(Path file) throws IOException, GeneralSecurityException {
    return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(decode(file)));
  }

  private static Path publicOf(Path key) {
    return key.resolveSibling(key.getFileName() + ".pub");
  }

  /** The first 16 hex digits of the SHA-256 of the public key's encoding. */
  static String fingerprint(PublicKey k) {
    return HexFormat.of().formatHex(Hashes.sha256(k.getEncoded()), 0, 8);
  }

  private static byte[] base64(byte[] b) {
    return (Base64.getEncoder().encodeToString(b) + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] decode(Path file) throws IOException {
    return Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).strip());
  }
}
