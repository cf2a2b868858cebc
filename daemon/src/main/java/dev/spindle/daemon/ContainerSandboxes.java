package dev.spindle.daemon;

import dev.spindle.container.Container;
import dev.spindle.container.ContainerRuntime;
import dev.spindle.container.ContainerSpec;
import dev.spindle.container.ImageUsers;
import dev.spindle.container.OciImageConfig;
import dev.spindle.fuse.MountOptions;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.sandbox.python.EvalResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Container sandboxes for the E2B API: a template naming a Spindle image starts the container
 * module's runtime ({@link ContainerRuntime}, as {@code spindle container run} does: runc over an
 * overlay of a private upper directory on a FUSE mount of the image, in a user namespace, with
 * its seccomp profile and capabilities) with {@code /bin/sh} reading a pipe this node never
 * writes, so the container lives until it is closed; each command is a {@code runc exec} in it.
 * Only a node started with {@code --containers} makes them ({@code null} otherwise).
 */
final class ContainerSandboxes {
  /** Processes one container sandbox may hold at once (its commands and what they start). */
  static final long MAX_PIDS = 512;

  private final ImageStore images;
  private final ContainerRuntime runtime;
  private final long memoryBytes;

  ContainerSandboxes(ImageStore images, Path stateDir, long memoryBytes) {
    this.images = images;
    this.runtime = new ContainerRuntime(stateDir);
    this.memoryBytes = memoryBytes;
  }

  /** Starts a container sandbox over the image {@code tag}; the caller closes it. */
  Box start(String id, String tag) throws IOException {
    Path file = images.usable(tag);
    Optional<OciImageConfig> oci = OciImageConfig.readFor(file);
    ContainerSpec spec = ContainerSpec.of("/bin/sh");
    if (oci.isPresent()) {
      spec = oci.get().applyTo(spec);
    }
    // The image's run config gives env, working directory and user; the command is ours: a shell
    // that waits on its stdin for as long as the sandbox lives.
    spec = new ContainerSpec(List.of("/bin/sh"), spec.env(), spec.cwd(), "spindle", memoryBytes, MAX_PIDS, null,
        false, 0, 0, false);
    Image img = images.open(tag, AccessMode.INDEXED);
    try {
      int[] ids = ImageUsers.resolve(img, oci.map(OciImageConfig::user).orElse(""));
      Container c = runtime.start(img, spec.withUser(ids[0], ids[1]), MountOptions.defaults());
      return new Box(id, img, c, spec.cwd(), spec.env());
    } catch (IOException | RuntimeException e) {
      img.close();
      throw e;
    }
  }

  /** One container sandbox: its image (open while the container runs) and the container. */
  static final class Box implements EnvdGuest, AutoCloseable {
    private final String id;
    private final Image image;
    final Container container;
    /** Where a command runs when it names no directory: the image's working directory, else /. */
    final String workdir;
    final List<String> env;

    Box(String id, Image image, Container container, String workdir, List<String> env) {
      this.id = id;
      this.image = image;
      this.container = container;
      this.workdir = workdir;
      this.env = env;
    }

    @Override
    public String id() {
      return id;
    }

    /** The container's root: the overlay of its writable layer on the image. */
    @Override
    public Optional<Path> filesRoot() {
      return Optional.of(container.rootfs());
    }

    @Override
    public boolean isPython() {
      return false;
    }

    @Override
    public Optional<Box> containerBox() {
      return Optional.of(this);
    }

    @Override
    public EvalResult eval(String code) {
      throw EnvdError.precondition("sandbox " + id + " is a container sandbox: it has no Python interpreter");
    }

    /** Kills every process in the container and removes it, its mounts and state; then closes the image. */
    @Override
    public void close() throws IOException {
      try {
        container.close();
      } finally {
        image.close();
      }
    }
  }
}
