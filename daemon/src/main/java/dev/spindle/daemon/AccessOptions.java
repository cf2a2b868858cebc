package dev.spindle.daemon;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the node may reach for its clients ({@link NodePolicy}): its peers ({@code --peer URL},
 * repeatable: fork targets, descriptors' signers, image sources by URL) and the local directories
 * API clients may name ({@code --allow-path DIR}, repeatable: image sources and {@code wasm.file}).
 * Both empty by default: a node fetches and reads nothing on a client's word. {@code containers}:
 * clients may start container sandboxes (E2B templates naming an image). {@code volumes}: the host
 * directories sandboxes may be given by name ({@code --volume NAME=DIR}, {@link Volumes}); none by
 * default.
 */
public record AccessOptions(
    List<String> peers, List<Path> allowPaths, boolean containers, Map<String, Path> volumes) {
  public AccessOptions {
    peers = List.copyOf(peers);
    allowPaths = List.copyOf(allowPaths);
    volumes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(volumes));
  }

  /** No containers: a client may not make the node run runc. */
  public AccessOptions(List<String> peers, List<Path> allowPaths) {
    this(peers, allowPaths, false, Map.of());
  }

  public static AccessOptions none() {
    return new AccessOptions(List.of(), List.of());
  }

  /**
   * These options, letting clients start container sandboxes ({@code --containers}): runc over the
   * node's images, confined as {@code spindle container run} confines them (the container module's
   * README). Off by default: a container is a set of host processes under a user namespace, a
   * larger surface than a WebAssembly sandbox.
   */
  public AccessOptions withContainers(boolean allowed) {
    return new AccessOptions(peers, allowPaths, allowed, volumes);
  }

  /**
   * These options with the volumes {@code specs} ({@code --volume NAME=DIR}, repeatable).
   *
   * @throws IllegalArgumentException naming the value that is not {@code NAME=DIR}
   */
  public AccessOptions withVolumes(List<String> specs) {
    return new AccessOptions(peers, allowPaths, containers, Volumes.parse(specs));
  }
}
