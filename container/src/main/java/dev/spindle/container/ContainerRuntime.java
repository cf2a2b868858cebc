package dev.spindle.container;

import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spindle.fuse.ImageMount;
import dev.spindle.fuse.MountOptions;
import dev.spindle.fuse.MountPoints;
import dev.spindle.image.Image;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Runs OCI containers from images: {@code runc} over {@code overlay(upper, lower = FUSE mount of
 * the image)}, with each container's parts under {@code STATE/<id>/} (see {@link Layout}).
 */
public final class ContainerRuntime {
  private static final SecureRandom IDS = new SecureRandom();

  private final Path stateRoot;

  public ContainerRuntime(Path stateRoot) {
    this.stateRoot = stateRoot;
  }

  /**
   * Starts {@code spec} over {@code image}; the image must stay open until the container closes.
   * First reaps what killed processes left (see {@link #reap()}). Unless the spec asks for
   * privileged root, the container runs in a {@link UserNamespace}: the image's files and the upper
   * directory (the directory itself, not what an earlier run left in it) belong to its root, an
   * unprivileged host user.
   */
  public Container start(Image image, ContainerSpec spec, MountOptions mountOptions)
      throws IOException {
    Runc runc = Runc.locate();
    reap(runc);
    UserNamespace userns = spec.privilegedRoot() ? null : UserNamespace.forRoot();
    Layout at =
        new Layout(
            Files.createDirectories(stateRoot).toRealPath().resolve("spindle-" + randomHex()));
    String id = at.id();
    UndoStack undo = new UndoStack();
    try {
      Files.createDirectory(at.dir());
      undo.push("remove " + at.dir(), () -> deleteTree(at.dir()));
      Owner.current().write(at.owner());
      Path upper =
          spec.upperDir() != null
              ? Files.createDirectories(spec.upperDir()).toRealPath()
              : Files.createDirectory(at.upper());
      for (Path d : List.of(at.lower(), at.work(), at.bundle())) {
        Files.createDirectory(d);
      }
      Files.createDirectories(Layout.ROOTFS_PARENT);
      Files.createDirectory(at.rootfs());
      undo.push("remove the mount point " + at.rootfs(), () -> removeMountPoint(at.rootfs()));
      MountOptions lowerOptions = mountOptions;
      if (userns != null) {
        // The container's root creates files in upper's top directory (overlay's "/"); overlay
        // itself uses work with the mounter's (host root's) rights, owned alike for tidiness.
        for (Path d : List.of(upper, at.work())) {
          Files.setAttribute(d, "unix:uid", userns.hostUid(), LinkOption.NOFOLLOW_LINKS);
          Files.setAttribute(d, "unix:gid", userns.hostGid(), LinkOption.NOFOLLOW_LINKS);
        }
        // The image's files as the container's root's: owned by host root they would show as
        // nobody inside and no one there could change them (copy-up checks the lower's owner).
        lowerOptions = mountOptions.withOwner(userns.hostUid(), userns.hostGid());
      }
      ImageMount fuse = ImageMount.mount(image, at.lower(), lowerOptions);
      undo.push("unmount the FUSE mount " + at.lower(), fuse::close);
      Overlay.mount(at.lower(), upper, at.work(), at.rootfs());
      undo.push("unmount the overlay " + at.rootfs(), () -> Overlay.unmount(at.rootfs()));
      OciConfig.JSON
          .writer(SerializationFeature.INDENT_OUTPUT)
          .writeValue(
              at.config().toFile(),
              OciConfig.of(spec, at.rootfs().toString(), Cgroups.pathOf(id), userns));
      undo.push("remove the cgroups of " + id, () -> Cgroups.remove(id));
      undo.push("delete runc container " + id, () -> runc.deleteForce(id));
      Process p = runc.run(at.bundle(), id, spec.inheritIo());
      return new Container(id, at.rootfs(), upper, p, runc, undo, fuse, at.dir(), userns);
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

  /**
   * Removes the containers whose owning process is gone (killed with SIGKILL, or the machine's JVM
   * crashed): their runc container, cgroups, overlay, dead FUSE mount and state. A shutdown hook
   * covers SIGTERM and Ctrl-C; this covers what no hook can. Returns the ids reaped.
   */
  public List<String> reap() throws IOException {
    return reap(Runc.locate());
  }

  private List<String> reap(Runc runc) throws IOException {
    List<String> reaped = new ArrayList<>();
    if (!Files.isDirectory(stateRoot)) {
      return reaped;
    }
    List<Path> dirs;
    try (Stream<Path> s = Files.list(stateRoot)) {
      dirs = s.filter(Files::isDirectory).sorted().toList();
    }
    for (Path d : dirs) {
      Layout at = new Layout(d.toRealPath());
      Optional<Owner> owner = Owner.read(at.owner());
      if (owner.isEmpty() || owner.get().isAlive()) {
        continue; // no owner yet: being set up right now; alive: not ours to touch
      }
      UndoStack undo = new UndoStack();
      undo.push("remove " + at.dir(), () -> deleteTree(at.dir()));
      undo.push("unmount the FUSE mount " + at.lower(), () -> Overlay.unmount(at.lower()));
      undo.push("remove the mount point " + at.rootfs(), () -> removeMountPoint(at.rootfs()));
      undo.push("unmount the overlay " + at.rootfs(), () -> Overlay.unmount(at.rootfs()));
      undo.push("remove the cgroups of " + at.id(), () -> Cgroups.remove(at.id()));
      undo.push("delete runc container " + at.id(), () -> runc.deleteForce(at.id()));
      undo.runAll();
      reaped.add(at.id());
    }
    return reaped;
  }

  /** Removes the overlay's (empty) mount point; refuses while the overlay is still there. */
  private static void removeMountPoint(Path dir) throws IOException {
    if (MountPoints.isMounted(dir)) {
      throw new IOException("still mounted, not removing " + dir);
    }
    Files.deleteIfExists(dir);
  }

  private static String randomHex() {
    byte[] b = new byte[6];
    IDS.nextBytes(b);
    return HexFormat.of().formatHex(b);
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
    Trees.delete(dir);
  }
}
