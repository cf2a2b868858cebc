package dev.spindle.remote;

import dev.spindle.store.Hashes;
import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Where a resumed child's Wasm module comes from when its node lacks it: the parent's page service
 * (under the descriptor's capability, over the child's background connection, so that page faults
 * never queue behind it), else the store (the parent saves the module there with the pages);
 * checked against the module's hash either way.
 */
public final class RemoteModuleSource {
  private final Descriptor d;
  private final PageClient client;
  private final PageStore fallback;

  RemoteModuleSource(Descriptor d, PageClient client, PageStore fallback) {
    this.d = d;
    this.client = client;
    this.fallback = fallback;
  }

  /**
   * The sandbox's Wasm module whose SHA-256 is {@code sha256Hex}, at most {@code maxBytes} long.
   *
   * @throws RemotePageException naming the module when neither the parent nor the store has it
   */
  public byte[] load(String sha256Hex, int maxBytes) {
    byte[] want = HexFormat.of().parseHex(sha256Hex);
    String parent;
    try {
      byte[] m = client.module(d.capability(), maxBytes);
      if (Arrays.equals(Hashes.sha256(m), want)) {
        return m;
      }
      parent = "sent a module with another hash";
    } catch (IOException e) {
      parent = "failed (" + e.getMessage() + ")";
    }
    String why = "module " + sha256Hex + ": parent " + d.host() + ":" + d.port() + " " + parent;
    if (fallback == null) {
      throw new RemotePageException(why + " and there is no fallback store");
    }
    Optional<byte[]> m;
    try {
      m = fallback.get(want);
    } catch (IOException e) {
      throw new RemotePageException(why + " and the store failed: " + e.getMessage());
    }
    if (m.isEmpty() || !Arrays.equals(Hashes.sha256(m.get()), want)) {
      throw new RemotePageException(
          why + " and the store has " + (m.isEmpty() ? "no such module" : "a damaged copy"));
    }
    return m.get();
  }
}
