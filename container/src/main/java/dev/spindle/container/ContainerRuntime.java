package dev.spindle.container;

import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spindle.fuse.ImageMount;
import dev.spindle.fuse.MountOptions;
import dev.spindle.fuse.MountPoints;
import dev.spindle.image.Image;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * Runs OCI containers from images: {@code runc} over {@code overlay(upper, lower = FUSE mount
 * of the image)}. Each container gets {@code STATE/<id>/} holding {@code lower/} (the FUSE
 * mount), {@code upper/}, {@code work/} and {@code bundle/} ({@code config.json} and
 * {@code rootfs/}, the overlay).
 */
public final class ContainerRuntime {
  private static final SecureRandom IDS = new SecureRandom();

  private final Path stateRoot;

  public ContainerRuntime(Path stateRoot) {
    this.stateRoot = stateRoot;
  }

  /** Starts {@code spec} over {@code image}; the image must stay open until the container closes. */
  public Container start(Image image, ContainerSpec spec, MountOptions mountOptions) throws IOException {
    Runc runc = Runc.locate();
    String id = "spindle-" + HexFormat.of().formatHex(random6());
    Path dir = Files.createDirectories(stateRoot).toRealPath().resolve(id);
    UndoStack undo = new UndoStack();
    try {
      Files.createDirectory(dir);
      undo.push("remove " + dir, () -> deleteTree(dir));
      Path lower = Files.createDirectory(dir.resolve("lower"));
      Path upper = spec.upperDir() != null
          ? Files.createDirectories(spec.upperDir()).toRealPath()
          : Files.createDirectory(dir.resolve("upper"));
      Path work = Files.createDirectory(dir.resolve("work"));
      Path bundle = Files.createDirectory(dir.resolve("bundle"));
      Path rootfs = Files.createDirectory(bundle.resolve("rootfs"));

      ImageMount fuse = ImageMount.mount(image, lower, mountOptions);
      undo.push("unmount the FUSE mount " + lower, fuse::close);
      Overlay.mount(lower, upper, work, rootfs);
      undo.push("unmount the overlay " + rootfs, () -> Overlay.unmount(rootfs));

      OciConfig.JSON.writer(SerializationFeature.INDENT_OUTPUT)
          .writeValue(bundle.resolve("config.json").toFile(), OciConfig.of(spec, "rootfs", Cgroups.pathOf(id)));
      undo.push("remove the cgroups of " + id, () -> Cgroups.remove(id));
      undo.push("delete runc container " + id, () -> runc.deleteForce(id));
      Process p = runc.run(bundle, id, spec.inheritIo());
      return new Container(id, rootfs, upper, p, runc, undo);
    } catch (IOException | RuntimeException e) {
      try {
        undo.runAll();
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /** Runs {@code spec} to its end with this process's stdio; returns the container's exit code. */
  public int run(Image image, ContainerSpec spec, MountOptions mountOptions)
      throws IOException, InterruptedException {
    try (Container c = start(image, spec.withInheritedIo(true), mountOptions)) {
      return c.waitFor();
    }
  }

  private static byte[] random6() {
    byte[] b = new byte[6];
    IDS.nextBytes(b);
    return b;
  }

  /**
   * Removes a container's state directory. Refuses while anything is still mounted inside it:
   * deleting through a live overlay would reach into what it was made of.
   */
  private static void deleteTree(Path dir) throws IOException {
    List<Path> mounted = MountPoints.list().stream().filter(m -> m.startsWith(dir)).toList();
    if (!mounted.isEmpty()) {
      throw new IOException("still mounted, not removing " + dir + ": " + mounted);
    }
    if (!Files.exists(dir)) {
      return;
    }
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
