package dev.spindle.daemon;

import dev.spindle.store.AtomicFiles;
import dev.spindle.store.SpindleHome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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

/**
 * The node's own Ed25519 key: it signs the descriptors this node prepares, so that a node that
 * lists this one as a peer resumes them and nobody else's. Made on first start as {@code
 * HOME/node-key} (PKCS#8, 0600) and {@code HOME/node-key.pub} (X.509); the public half is served at
 * {@code GET /v1/node/key}, which is how a peer learns it with no setting beyond {@code --peer}.
 */
final class NodeKey {
  private static final String ALGORITHM = "Ed25519";

  private final PrivateKey privateKey;
  private final PublicKey publicKey;

  private NodeKey(PrivateKey privateKey, PublicKey publicKey) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  static NodeKey loadOrCreate(SpindleHome home) throws IOException {
    Path priv = home.nodeKey();
    Path pub = home.nodePublicKey();
    try {
      KeyFactory f = KeyFactory.getInstance(ALGORITHM);
      if (Files.isRegularFile(priv) && Files.isRegularFile(pub)) {
        return new NodeKey(
            f.generatePrivate(new PKCS8EncodedKeySpec(decode(priv))),
            f.generatePublic(new X509EncodedKeySpec(decode(pub))));
      }
      KeyPair pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
      // The private half is created 0600 before the secret goes in; the rename keeps the mode.
      Path tmp =
          Files.createTempFile(
              home.root(),
              ".node-key.",
              ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try {
        Files.writeString(
            tmp, Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded()) + "\n");
        AtomicFiles.write(
            pub,
            (Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()) + "\n")
                .getBytes(StandardCharsets.US_ASCII));
        Files.move(tmp, priv, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
      return new NodeKey(pair.getPrivate(), pair.getPublic());
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(
          "the node key in "
              + home.root()
              + " (node-key, node-key.pub) is damaged: "
              + e.getMessage()
              + "; remove both files to make a new one (peers learn it again on their next fork)",
          e);
    }
  }

  private static byte[] decode(Path p) throws IOException {
    return Base64.getDecoder().decode(Files.readString(p).strip());
  }

  /** The public key, X.509-encoded: what peers fetch and what a seal names. */
  byte[] publicKey() {
    return publicKey.getEncoded();
  }

  byte[] sign(byte[] message) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(privateKey);
      s.update(message);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  /** Whether {@code signature} over {@code message} is by the X.509 {@code publicKey}. */
  static boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(
          KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(publicKey)));
      s.update(message);
      return s.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
