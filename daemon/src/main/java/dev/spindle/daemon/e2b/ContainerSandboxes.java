package dev.spindle.daemon.e2b;

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
 * overlay of a private upper directory on a FUSE mount of the image, in a user namespace, with its
 * seccomp profile and capabilities) with {@code /bin/sh} reading a pipe this node never writes, so
 * the container lives until it is closed; each command is a {@code runc exec} in it. Only a node
 * started with {@code --containers} makes them ({@code null} otherwise).
 */
public final class ContainerSandboxes {
  /** Processes one container sandbox may hold at once (its commands and what they start). */
  static final long MAX_PIDS = 512;

  /**
   * The container's own process: says it runs (runc run returns before the container exists, and an
   * exec before then fails), then waits on a stdin this node never writes or closes.
   */
  private static final String READY = "echo ready; while read -r line; do :; done";

  private final ImageStore images;
  private final ContainerRuntime runtime;
  private final long memoryBytes;

  private ContainerSandboxes(ImageStore images, ContainerRuntime runtime, long memoryBytes) {
    this.images = images;
    this.runtime = runtime;
    this.memoryBytes = memoryBytes;
  }

  /**
   * Container sandboxes with their state in {@code stateDir}. Fails now, naming what is missing,
   * when this host cannot run them (no runc), rather than at a client's first create; and reaps
   * what a node killed on this home left (its containers, mounts and cgroups).
   */
  public static ContainerSandboxes open(ImageStore images, Path stateDir, long memoryBytes)
      throws IOException {
    ContainerRuntime runtime = new ContainerRuntime(stateDir);
    for (String id : runtime.reap()) {
      System.err.println(
          "spindle daemon: reaped container " + id + " (left by a node that was killed)");
    }
    return new ContainerSandboxes(images, runtime, memoryBytes);
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
    spec =
        new ContainerSpec(
            List.of("/bin/sh", "-c", READY),
            spec.env(),
            spec.cwd(),
            "spindle",
            memoryBytes,
            MAX_PIDS,
            null,
            false,
            0,
            0,
            false);
    Image img = images.open(tag, AccessMode.INDEXED);
    try {
      int[] ids = ImageUsers.resolve(img, oci.map(OciImageConfig::user).orElse(""));
      Container c = runtime.start(img, spec.withUser(ids[0], ids[1]), MountOptions.defaults());
      try {
        awaitReady(c);
      } catch (IOException | RuntimeException e) {
        c.close();
        throw e;
      }
      return new Box(id, img, c, spec.cwd(), spec.env());
    } catch (IOException | RuntimeException e) {
      img.close();
      throw e;
    }
  }

  /**
   * Waits for the container's first line; its end before that is a failed start (runc's stderr says
   * why).
   */
  private static void awaitReady(Container c) throws IOException {
    byte[] line = new byte[6];
    int n = c.stdout().readNBytes(line, 0, line.length);
    if (n == line.length
        && new String(line, java.nio.charset.StandardCharsets.US_ASCII).equals("ready\n")) {
      return;
    }
    byte[] err = c.stderr().readNBytes(4096);
    throw new IOException(
        "the container did not start (the image needs /bin/sh): "
            + new String(err, java.nio.charset.StandardCharsets.UTF_8).strip());
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

    /** The container's root's host ids: what envd writes is the container root's inside. */
    @Override
    public int[] filesOwner() {
      return container.rootOwner();
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
      throw EnvdError.precondition(
          "sandbox " + id + " is a container sandbox: it has no Python interpreter");
    }

    /**
     * Kills every process in the container and removes it, its mounts and state; then closes the
     * image.
     */
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
