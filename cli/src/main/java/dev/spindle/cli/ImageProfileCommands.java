package dev.spindle.cli;

import dev.spindle.fuse.AccessTraces;
import dev.spindle.image.ImageDebloater;
import dev.spindle.image.ImageStore;
import dev.spindle.store.AtomicFiles;
import dev.spindle.store.Tag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Which files a run needs ({@code profile}) and an image laid out for them ({@code debloat}). */
final class ImageProfileCommands {
  private ImageProfileCommands() {}

  @Command(
      name = "profile",
      mixinStandardHelpOptions = true,
      description = {
        "Run CMD in a container of the image ('container run --trace') and record the",
        "files it opens, first open first, as JSON lines in PROFILE (for 'image debloat')."
      })
  static final class Profile implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(index = "0", paramLabel = "TAG")
    String tag;

    @Parameters(index = "1..*", paramLabel = "CMD", description = "The command (after --).")
    List<String> command = new ArrayList<>();

    @Option(
        names = {"-o", "--output"},
        paramLabel = "PROFILE",
        required = true)
    Path profile;

    @Override
    public Integer call() throws Exception {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "container",
                  "run",
                  tag,
                  "--trace",
                  profile.toString(),
                  "--home",
                  common.home().root().toString(),
                  "--"));
      args.addAll(command);
      int code = Main.run(args.toArray(String[]::new));
      if (!Files.exists(profile)) {
        return code == 0 ? 1 : code;
      }
      System.out.println(
          "profile "
              + profile
              + ": "
              + AccessTraces.paths(profile).size()
              + " files opened (the command exited "
              + code
              + ")");
      return code;
    }
  }

  @Command(
      name = "debloat",
      mixinStandardHelpOptions = true,
      description = {
        "Write a copy of the image with the files of PROFILE first and contiguous, in",
        "order, the rest after them: same files, same root."
      })
  static final class Debloat implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(paramLabel = "TAG|FILE")
    String image;

    @Option(
        names = "--profile",
        paramLabel = "PROFILE",
        required = true,
        description = "From 'image profile' (JSON lines), or one path per line.")
    Path profile;

    @Option(
        names = {"-t", "--tag"},
        paramLabel = "NEWTAG",
        required = true)
    String newTag;

    @Override
    public Integer call() throws Exception {
      ImageStore store = common.images();
      Path src = store.usable(image);
      Tag t = Tag.of(newTag);
      Files.createDirectories(store.path(t).getParent());
      ImageDebloater.Report r =
          ImageDebloater.debloat(src, AccessTraces.paths(profile), store.path(t));
      // A container image keeps its run config (Entrypoint, Env, ...) under the new tag.
      Path oci =
          src.resolveSibling(
              src.getFileName().toString().replaceFirst("\\.img$", "") + ".oci.json");
      if (Files.exists(oci)) {
        AtomicFiles.copy(oci, store.path(t).resolveSibling(t.value() + ".oci.json"));
      }
      System.out.printf(
          "%s: %d bytes; hot: %d files, %d bytes of content, the first %d bytes of the PACK;"
              + " cold: %d files%n",
          newTag,
          r.imageBytes(),
          r.hotFiles(),
          r.hotContentBytes(),
          r.hotPrefixBytes(),
          r.coldFiles());
      r.unknownPaths().forEach(p -> System.err.println("spindle: not in the image, ignored: " + p));
      return 0;
    }
  }
}
