package dev.spindle.cli;

import dev.spindle.fuse.MountPoints;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "umount",
    mixinStandardHelpOptions = true,
    description = {
      "Unmount an image mounted with 'spindle mount' (its process then exits);",
      "also clears a stale mount whose process was killed (what 'spindle doctor' reports)."
    })
final class UmountCommand implements Callable<Integer> {
  /** Accepted like on every command, though unmounting needs no store. */
  @Mixin CommonOptions common;

  @Parameters(index = "0", paramLabel = "DIR")
  Path dir;

  @Override
  public Integer call() throws Exception {
    Path at = dir.toAbsolutePath().normalize();
    if (!MountPoints.isMounted(at)) {
      throw new java.io.IOException(at + " is not a mount point");
    }
    MountPoints.unmountFuse(at);
    return 0;
  }
}
