package dev.spindle.daemon;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * A descriptor as it travels between nodes: signed by the node that prepared it. A descriptor names
 * pages to fetch, an address to connect to and a sandbox state to run; its CRC only catches damage,
 * so without a signature anyone who can post to {@code /v1/resume} could choose all three.
 *
 * <pre>
 * magic "SPNDSEAL" | u16 key length | X.509 Ed25519 public key | 64-byte signature | descriptor
 * </pre>
 *
 * The signature covers {@code "spindle descriptor seal v1\n"} and the descriptor's bytes.
 */
final class DescriptorSeal {
  private static final byte[] MAGIC = "SPNDSEAL".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONTEXT =
      "spindle descriptor seal v1\n".getBytes(StandardCharsets.US_ASCII);
  private static final int SIGNATURE = 64;
  private static final int MAX_KEY = 1024;

  private DescriptorSeal() {}

  static byte[] seal(NodeKey key, byte[] descriptor) {
    byte[] pub = key.publicKey();
    byte[] sig = key.sign(message(descriptor));
    return ByteBuffer.allocate(MAGIC.length + 2 + pub.length + SIGNATURE + descriptor.length)
        .put(MAGIC)
        .putShort((short) pub.length)
        .put(pub)
        .put(sig)
        .put(descriptor)
        .array();
  }

  /** The signer's X.509 public key and the descriptor, once the signature checks. */
  record Opened(byte[] signer, byte[] descriptor) {}

  /**
   * Checks a sealed descriptor: well formed, signed by a key {@code trusted} accepts, and the
   * signature good. Every refusal is an {@link ApiError} that says what to fix, never echoing the
   * bytes.
   */
  static Opened open(byte[] sealed, Predicate<byte[]> trusted) {
    ByteBuffer b = ByteBuffer.wrap(sealed);
    if (sealed.length < MAGIC.length + 2
        || !Arrays.equals(sealed, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new ApiError(
          403,
          "unsigned_descriptor",
          "the descriptor is not sealed by a node: this node resumes "
              + "only descriptors prepared by itself or by a node it lists with --peer");
    }
    b.position(MAGIC.length);
    int keyLength = Short.toUnsignedInt(b.getShort());
    if (keyLength == 0 || keyLength > MAX_KEY || b.remaining() < keyLength + SIGNATURE) {
      throw ApiError.badRequest(
          "bad_descriptor",
          "the descriptor's seal is truncated or malformed at byte " + MAGIC.length);
    }
    byte[] key = new byte[keyLength];
    b.get(key);
    byte[] sig = new byte[SIGNATURE];
    b.get(sig);
    byte[] descriptor = new byte[b.remaining()];
    b.get(descriptor);
    if (!trusted.test(key)) {
      throw new ApiError(
          403,
          "untrusted_descriptor",
          "the descriptor was sealed by a node this one does not list "
              + "with --peer: start this node with --peer URL naming the parent's node");
    }
    if (!NodeKey.verify(key, message(descriptor), sig)) {
      throw new ApiError(
          403,
          "untrusted_descriptor",
          "the descriptor's signature does not match its contents: "
              + "it was altered after its node sealed it");
    }
    return new Opened(key, descriptor);
  }

  private static byte[] message(byte[] descriptor) {
    return ByteBuffer.allocate(CONTEXT.length + descriptor.length)
        .put(CONTEXT)
        .put(descriptor)
        .array();
  }
}
