package dev.spindle.cli;

import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.ImageExtractor;
import dev.spindle.image.PathResolver;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Reading an image from the command line: ls, cat, stat, extract. */
final class ImageReadCommands {
  private ImageReadCommands() {}

  /** What every read command takes: the image and how to open it. */
  abstract static class Base implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(
        index = "0",
        paramLabel = "TAG|FILE",
        description = "A tag in the store, or an image file.")
    String image;

    @Mixin LookupModeOption lookup;

    Image open() throws IOException {
      // Under the node's signature policy: what an image holds is only shown or written out
      // when it is signed by a trusted key (ImageStore's class comment).
      return common.images().open(image, lookup.mode);
    }
  }

  /**
   * {@code image ls}: with no image, the images in the store (what {@code list}, its alias, always
   * meant); with one, a directory of it. One verb for listing, as in every other command group.
   */
  @Command(
      name = "ls",
      aliases = "list",
      mixinStandardHelpOptions = true,
      description = {
        "List the images in the store, or, given an image, a directory of it.",
        "  spindle image ls                 the images (also: spindle image list)",
        "  spindle image ls app /etc -l     a directory of image app"
      })
  static final class Ls implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Mixin NodeOptions node;

    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "TAG|FILE",
        description = "A tag in the store, or an image file; none lists the store's images.")
    String image;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PATH", defaultValue = "/")
    String path;

    @Mixin LookupModeOption lookup;

    @Option(names = "-l", description = "Long format: mode, object id, size.")
    boolean longFormat;

    @Option(names = "-R", description = "Recurse into directories.")
    boolean recursive;

    @Override
    public Integer call() throws Exception {
      if (image == null) {
        return ImageTransferCommands.listImages(common, node);
      }
      if (node.remote()) {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(this),
            "--node lists a node's images; reading one image's directories is local only");
      }
      try (Image img = common.images().open(image, lookup.mode)) {
        ImageEntry e = new PathResolver(img).resolve(path, true);
        if (!e.isDirectory()) {
          print(img, e);
        } else {
          list(img, e);
        }
      }
      return 0;
    }

    private void list(Image img, ImageEntry dir) throws IOException {
      for (ImageEntry c : img.list(dir)) {
        print(img, c);
        if (recursive && c.isDirectory()) {
          list(img, c);
        }
      }
    }

    private void print(Image img, ImageEntry e) throws IOException {
      String name = recursive ? e.path() : e.name();
      if (e.isDirectory()) {
        name += "/";
      }
      if (e.isSymlink()) {
        name += " -> " + img.readLink(e);
      }
      if (longFormat) {
        System.out.printf(
            "%s %s %s %10d %s%n", e.modeString(), e.type(), e.id().name(), e.size(), name);
      } else {
        System.out.println(name);
      }
    }
  }

  @Command(
      name = "cat",
      mixinStandardHelpOptions = true,
      description = "Write a file of an image to stdout.")
  static final class Cat extends Base {
    @Parameters(index = "1", paramLabel = "PATH")
    String path;

    @Override
    public Integer call() throws Exception {
      try (Image img = open()) {
        ImageEntry e = new PathResolver(img).resolve(path, true);
        if (e.isDirectory()) {
          throw new IOException(path + ": is a directory");
        }
        PrintStream out = System.out;
        try (InputStream in = img.open(e)) {
          in.transferTo(out);
        }
        out.flush();
      }
      return 0;
    }
  }

  @Command(
      name = "stat",
      mixinStandardHelpOptions = true,
      description = "Show one entry of an image.")
  static final class Stat extends Base {
    @Parameters(index = "1", paramLabel = "PATH")
    String path;

    @Option(
        names = {"-L", "--dereference"},
        description = "Follow a symlink at the end of PATH.")
    boolean follow;

    @Override
    public Integer call() throws Exception {
      try (Image img = open()) {
        ImageEntry e = new PathResolver(img).resolve(path, follow);
        System.out.println("path: /" + e.path());
        System.out.println(
            "type: "
                + (e.isDirectory()
                    ? "directory"
                    : e.isSymlink()
                        ? "symlink"
                        : e.type().equals("commit") ? "submodule" : "file"));
        System.out.println("mode: " + e.modeString());
        System.out.println("id:   " + e.id().name());
        System.out.println("size: " + e.size());
        if (e.isSymlink()) {
          System.out.println("link: " + img.readLink(e));
        }
        // What the metadata section records (or the defaults of an image without one).
        var m = img.metadata(e);
        boolean owners = img.metadata().map(t -> t.ownersRecorded()).orElse(false);
        System.out.printf("access: %04o%n", m.permissions());
        System.out.println(
            "owner: "
                + (owners
                    ? Integer.toUnsignedString(m.uid()) + ":" + Integer.toUnsignedString(m.gid())
                    : "not recorded (root)"));
        System.out.println("links: " + img.linkCount(e));
        for (var x : m.xattrs()) {
          System.out.println("xattr: " + x.name() + " (" + x.value().length + " bytes)");
        }
      }
      return 0;
    }
  }

  @Command(
      name = "extract",
      mixinStandardHelpOptions = true,
      description = "Write an image (or one of its paths) to a directory on the host.")
  static final class Extract extends Base {
    @Parameters(index = "1", paramLabel = "DIR")
    Path target;

    @Option(names = "--path", defaultValue = "/", description = "Only this path of the image.")
    String path;

    @Override
    public Integer call() throws Exception {
      try (Image img = open()) {
        ImageEntry e = new PathResolver(img).resolve(path, true);
        ImageExtractor x = new ImageExtractor(img, common.progress());
        x.extract(e, e.isDirectory() ? target : target.resolve(e.name()));
        System.out.println(
            "extracted " + x.files() + " files, " + x.bytes() + " bytes to " + target);
        for (String line : x.notRestored()) { // said, not hidden: the tree on disk differs there
          System.err.println("not restored: " + line);
        }
      }
      return 0;
    }
  }
}
