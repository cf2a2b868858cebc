package dev.spindle.daemon;

import java.nio.file.Path;
import java.util.List;

/**
 * What the node may reach for its clients ({@link NodePolicy}): its peers ({@code --peer URL},
 * repeatable: fork targets, descriptors' signers, image sources by URL) and the local
 * directories API clients may name ({@code --allow-path DIR}, repeatable: image sources and
 * {@code wasm.file}). Both empty by default: a node fetches and reads nothing on a client's word.
 */
public record AccessOptions(List<String> peers, List<Path> allowPaths) {
  public AccessOptions {
    peers = List.copyOf(peers);
    allowPaths = List.copyOf(allowPaths);
  }

  public static AccessOptions none() {
    return new AccessOptions(List.of(), List.of());
  }
}
