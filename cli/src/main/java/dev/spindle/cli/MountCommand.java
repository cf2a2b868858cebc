package dev.spindle.cli;

import dev.spindle.fuse.ImageMount;
import dev.spindle.fuse.MountOptions;
import dev.spindle.image.Image;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "mount",
    header = "Mount an image read-only with FUSE (foreground).",
    mixinStandardHelpOptions = true,
    description = {
      "Mount an image read-only at DIR with FUSE, in the foreground: serves until",
      "'spindle umount DIR', Ctrl-C or SIGTERM, and unmounts cleanly on each."
    })
final class MountCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Parameters(
      index = "0",
      paramLabel = "TAG|FILE",
      description = "A tag in the store, or an image file.")
  String image;

  @Parameters(index = "1", paramLabel = "DIR", description = "An existing, empty directory.")
  Path dir;

  @Option(
      names = "--trace",
      paramLabel = "FILE",
      description = "Write each first open (path, id, size, pid, time) as a JSON line to FILE.")
  Path trace;

  @Mixin LookupModeOption lookup;

  @Override
  public Integer call() throws Exception {
    Image img = common.images().open(image, lookup.mode);
    ImageMount m;
    try {
      m = ImageMount.mount(img, dir, new MountOptions(trace, null));
    } catch (IOException | RuntimeException e) {
      img.close();
      throw e;
    }
    // SIGTERM and Ctrl-C run shutdown hooks: the mount must not outlive the process serving it.
    ShutdownCloser closer = new ShutdownCloser(m::close, img, "spindle-umount");
    System.err.println(
        "spindle: mounted "
            + image
            + " at "
            + m.mountPoint()
            + " (read-only); stop with Ctrl-C or 'spindle umount "
            + m.mountPoint()
            + "'");
    m.awaitUnmounted();
    closer.close();
    return 0;
  }
}
