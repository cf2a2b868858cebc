package dev.spindle.cli;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.image.VerifyReport;
import dev.spindle.store.Tag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Moving images in and out of the store, listing and removing them. */
final class ImageTransferCommands {
  private ImageTransferCommands() {}

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = "Write an image to one self-contained file (like docteur's disk.img).")
  static final class Export implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(index = "0", paramLabel = "TAG")
    String tag;

    @Parameters(index = "1", paramLabel = "FILE")
    Path file;

    @Override
    public Integer call() throws Exception {
      common.images().export(Tag.of(tag), file);
      System.out.println("exported " + tag + " to " + file + " (" + Files.size(file) + " bytes)");
      return 0;
    }
  }

  @Command(
      name = "import",
      mixinStandardHelpOptions = true,
      header = "Store an image file (verified first), or import a container image.",
      description = {
        "Verify an image file whole, then store it under a tag; or import an OCI",
        "image (oci-layout:DIR, docker-archive:FILE.tar, or docker://HOST[:PORT]/REPO[:TAG|@DIGEST]",
        "from a registry, every digest checked, a broken download resumed): layers applied in",
        "order with whiteouts."
      })
  static final class Import implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Mixin RegistryFlags registry;

    @Option(
        names = "--platform",
        paramLabel = "OS/ARCH[/VARIANT]",
        description =
            "From a registry: the image to take from a multi-platform index (default: linux/amd64).")
    String platform;

    @Parameters(paramLabel = "FILE|oci-layout:DIR|docker-archive:FILE.tar|docker://HOST/REPO:TAG")
    String source;

    @Option(
        names = {"-t", "--tag"},
        description = "Tag (default: the file name without extension).")
    String tag;

    @Option(names = "--force", description = "Replace an existing image with the same tag.")
    boolean force;

    @Override
    public Integer call() throws Exception {
      if (source.startsWith("oci-layout:")
          || source.startsWith("docker-archive:")
          || source.startsWith("docker://")) {
        if (tag == null) {
          throw new IllegalArgumentException("-t TAG is required to import " + source);
        }
        return ContainerCommand.Import.importOci(
            common, source, tag, force, registry.options(common.home(), platform));
      }
      Path file = Path.of(source);
      String name = tag;
      if (name == null) {
        name = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
      }
      Tag t = Tag.of(name);
      ImageStore store = common.images();
      if (store.exists(t) && !force) {
        throw new IllegalArgumentException(
            "an image tagged '" + name + "' exists already (use --force to replace it)");
      }
      VerifyReport r = store.importFile(file, t, common.progress());
      if (!r.ok()) {
        r.problems().forEach(p -> System.err.println(file + ": " + p));
        System.err.println("spindle: not imported: " + file + " is damaged");
        return 1;
      }
      System.out.println(
          "imported " + file + " as " + name + " (root " + r.commit().root().name() + ")");
      return 0;
    }
  }

  /** The store's images (or a node's, with {@code --node}): {@code image ls} with no image. */
  static int listImages(CommonOptions common, NodeOptions node) throws Exception {
    if (node.remote()) {
      return RemoteImages.list(node.client(common.home()));
    }
    ImageStore store = common.images();
    for (Tag t : store.list()) {
      Path p = store.path(t);
      // Unchecked: the catalog lists every image, signed or not; only its root is read.
      try (Image img = Image.open(p, AccessMode.LAZY)) {
        System.out.printf("%-24s %s %10d bytes%n", t, img.root().name(), Files.size(p));
      } catch (java.io.IOException e) {
        System.out.printf("%-24s DAMAGED: %s%n", t, e.getMessage());
      }
    }
    return 0;
  }

  @Command(
      name = "rm",
      mixinStandardHelpOptions = true,
      description = "Remove an image from the store.")
  static final class Remove implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(paramLabel = "TAG")
    String tag;

    @Override
    public Integer call() throws Exception {
      if (!common.images().delete(Tag.of(tag))) {
        throw new IllegalArgumentException("no image tagged '" + tag + "'");
      }
      System.out.println("removed " + tag);
      return 0;
    }
  }
}
