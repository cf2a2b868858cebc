package dev.spindle.cli;

import dev.spindle.container.Container;
import dev.spindle.container.ContainerRuntime;
import dev.spindle.container.ContainerSpec;
import dev.spindle.container.ImageUsers;
import dev.spindle.container.OciImageConfig;
import dev.spindle.container.OciImporter;
import dev.spindle.container.RegistryOptions;
import dev.spindle.fuse.MountOptions;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "container",
    mixinStandardHelpOptions = true,
    description = "OCI containers from images: runc over overlay(upper, FUSE mount of the image).",
    subcommands = {
      ContainerCommand.Run.class,
      ContainerCommand.Import.class,
      ContainerCommand.Reap.class
    })
final class ContainerCommand {
  private ContainerCommand() {}

  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description = {
        "Run CMD in a container of an image, in the foreground; exits with the container's exit",
        "code. Without CMD, an imported image runs its Entrypoint + Cmd with its Env, WorkingDir",
        "and User. Mounts, cgroups and the runc container are removed at the end, also on Ctrl-C",
        "or SIGTERM (runs as root: runc, overlay and cgroups need it)."
      })
  static final class Run implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(
        index = "0",
        paramLabel = "TAG|FILE",
        description = "A tag in the store, or an image file.")
    String image;

    @Parameters(
        index = "1..*",
        paramLabel = "CMD",
        description = "The command and its arguments (after --).")
    List<String> command = new ArrayList<>();

    @Option(names = "--memory", paramLabel = "SIZE", description = "Memory limit, e.g. 256m, 1g.")
    String memory;

    @Option(names = "--pids", paramLabel = "N", description = "At most N processes and threads.")
    long pids;

    /** Added to the image's environment (default: a PATH only). */
    @Mixin EnvOptions env;

    @Option(
        names = {"-w", "--workdir"},
        paramLabel = "DIR",
        description = "Working directory inside (default: the image's, else /).")
    String workdir;

    @Option(
        names = {"-u", "--user"},
        paramLabel = "USER[:GROUP]",
        description =
            "Run as (names from the image's /etc/passwd; default: the image's, else root).")
    String user;

    @Option(
        names = "--upper",
        paramLabel = "DIR",
        description = {
          "Keep the container's writes in DIR (default: a temporary directory, removed). DIR itself",
          "becomes owned by the container's root (host uid 100000 or root's /etc/subuid range)."
        })
    Path upper;

    @Option(
        names = "--privileged-root",
        description = {
          "Run without a user namespace: the container's root is host root. By default it is an",
          "unprivileged host user (container ids 0-65535 = host 100000-165535, or root's /etc/subuid range).",
          "This gives away: capabilities MKNOD, NET_RAW, SETFCAP on top of CHOWN, DAC_OVERRIDE, FOWNER,",
          "SETUID... acting on host ids; files it writes to --upper belong to host root (setuid binaries",
          "and device nodes included; the overlay is still nosuid,nodev, the host's view of DIR is not);",
          "a kernel exploit inside is host root. Seccomp and no-new-privileges stay."
        })
    boolean privilegedRoot;

    @Option(
        names = "--trace",
        paramLabel = "FILE",
        description = "Record each first open of an image file (JSON lines).")
    Path trace;

    @Mixin LookupModeOption lookup;

    @Option(
        names = "--hot",
        paramLabel = "PROFILE",
        description = {
          "The image's hot files (a profile, as 'image debloat --profile' took): files the run opens",
          "outside it are cold; they are served all the same, counted, and reported on exit."
        })
    Path hot;

    @Option(
        names = "--prefetch",
        paramLabel = "PROFILE",
        description = {
          "For a lazily pulled image: fetch PROFILE's files ('image profile') in the background",
          "from the start, in recorded order, while the container starts and runs."
        })
    Path prefetch;

    @Option(
        names = "--from",
        paramLabel = "NODE_URL|s3://BUCKET[/PREFIX]?endpoint=URL",
        description = {
          "When the store has no image tagged TAG: pull it from this node or bucket first, as",
          "'image pull TAG --from ...' would (whole, or with --lazy), in this same process."
        })
    URI from;

    @Option(
        names = "--token",
        paramLabel = "TOKEN",
        description =
            "With --from: the node's bearer token. Default: $SPINDLE_TOKEN, else the home's daemon.token.")
    String token;

    @Option(
        names = "--lazy",
        description = "With --from: pull only the metadata; file contents come on first read.")
    boolean lazy;

    @Override
    public Integer call() throws Exception {
      if (from != null && !pulled()) {
        return 1;
      }
      if (from == null && (lazy || token != null)) {
        throw new IllegalArgumentException("--lazy and --token go with --from");
      }
      Path file = common.images().usable(image);
      if (prefetch != null && dev.spindle.image.lazy.LazyImages.isLazy(file)) {
        List<String> hot = dev.spindle.fuse.AccessTraces.paths(prefetch);
        // A failure here costs only speed: the run fetches what it opens anyway.
        Thread.ofPlatform()
            .daemon()
            .name("spindle-prefetch")
            .start(
                () -> {
                  try {
                    dev.spindle.image.lazy.LazyImages.prefetch(file, hot);
                  } catch (IOException e) {
                    System.err.println(
                        "spindle: prefetch of " + prefetch + " stopped: " + e.getMessage());
                  }
                });
      }
      MountOptions mountOptions = new MountOptions(trace, null);
      if (hot != null) {
        mountOptions = mountOptions.withHot(dev.spindle.fuse.AccessTraces.paths(hot));
      }
      Optional<OciImageConfig> oci = OciImageConfig.readFor(file);
      List<String> args = command;
      if (args.isEmpty()) {
        args = oci.map(OciImageConfig::command).orElse(List.of());
        if (args.isEmpty()) {
          throw new IllegalArgumentException(
              "no command: the image has no Entrypoint or Cmd; give one after '--',"
                  + " e.g. spindle container run "
                  + image
                  + " -- sh -c 'echo hi'");
        }
      }
      ContainerSpec spec = ContainerSpec.of(args);
      if (oci.isPresent()) {
        spec = oci.get().applyTo(spec);
      }
      if (workdir != null) {
        spec = spec.withCwd(workdir);
      }
      spec =
          spec.withPids(pids)
              .withUpperDir(upper)
              .withInheritedIo(true)
              .withPrivilegedRoot(privilegedRoot);
      if (memory != null) {
        spec = spec.withMemory(ContainerSpec.parseSize(memory));
      }
      if (!env.entries().isEmpty()) {
        List<String> all = new ArrayList<>(spec.env());
        all.addAll(env.entries());
        spec = spec.withEnv(all);
      }
      ContainerRuntime runtime = new ContainerRuntime(common.home().containers());
      // Checked again as opened: the check is bound to the bytes the container gets.
      Image img = common.images().open(image, lookup.mode);
      Container c;
      try {
        String who = user != null ? user : oci.map(OciImageConfig::user).orElse("");
        int[] ids = ImageUsers.resolve(img, who);
        c = runtime.start(img, spec.withUser(ids[0], ids[1]), mountOptions);
      } catch (IOException | RuntimeException e) {
        img.close();
        throw e;
      }
      // SIGTERM and Ctrl-C: kill the container and remove its mounts and cgroups before exiting.
      ShutdownCloser closer = new ShutdownCloser(c::close, img, "spindle-container-cleanup");
      int code = c.waitFor();
      if (hot != null) {
        System.err.println(
            "spindle: the run opened "
                + c.firstOpens()
                + " image files, "
                + c.coldOpens()
                + " of them cold (not in "
                + hot
                + ")");
      }
      closer.close();
      return code;
    }

    /**
     * Pulls the image when the store lacks it; false when the pull was refused (its problems
     * printed). One process for pull and run: each CLI start is a JVM start, the largest fixed cost
     * of a lazy run over a fast link (bench/lazy).
     */
    private boolean pulled() throws Exception {
      if (from.toString().startsWith("docker://")) {
        throw new IllegalArgumentException(
            "--from: a registry image is pulled with 'spindle image pull' first");
      }
      Tag t = Tag.of(image);
      if (common.images().exists(t)) {
        return true;
      }
      VerifyReport r = ImagePullCommands.Pull.fromNodeOrBucket(common, from, token, image, t, lazy);
      return !ImagePullCommands.Pull.failed(r, from + " " + image, from);
    }
  }

  @Command(
      name = "import",
      mixinStandardHelpOptions = true,
      description = {
        "Import a container image: oci-layout:DIR (an OCI image layout), docker-archive:FILE.tar",
        "(docker save) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry). Layers are applied in",
        "order with whiteouts into one image; Entrypoint, Cmd, Env, WorkingDir, User and the image id",
        "are kept beside it (images/TAG.oci.json)."
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

    @Parameters(
        index = "0",
        paramLabel = "SOURCE",
        description =
            "oci-layout:DIR, docker-archive:FILE.tar or docker://HOST[:PORT]/REPO[:TAG|@DIGEST]")
    String source;

    @Option(
        names = {"-t", "--tag"},
        required = true,
        description = "Tag to store the image under.")
    String tag;

    @Option(names = "--force", description = "Replace an existing image with the same tag.")
    boolean force;

    @Override
    public Integer call() throws Exception {
      return importOci(common, source, tag, force, registry.options(common.home(), platform));
    }

    /** Shared with {@code spindle image import oci-layout:…|docker-archive:…|docker://…}. */
    static int importOci(
        CommonOptions common, String source, String tag, boolean force, RegistryOptions registry)
        throws Exception {
      Tag t = Tag.of(tag);
      ImageStore store = common.images();
      if (store.exists(t) && !force) {
        throw new IllegalArgumentException(
            "an image tagged '" + tag + "' exists already (use --force to replace it)");
      }
      OciImporter.Result r =
          new OciImporter(store, common.progress())
              .importImage(source, t, MakeOptions.defaults(), registry);
      System.out.println(
          "imported "
              + source
              + " as "
              + tag
              + ": "
              + r.layers()
              + " layers, root "
              + r.header().root().name()
              + ", image id "
              + r.config().imageId());
      if (r.skipped() > 0) {
        System.out.println(
            "skipped "
                + r.skipped()
                + " devices and FIFOs (an image holds files, directories and symlinks)");
      }
      return 0;
    }
  }

  @Command(
      name = "reap",
      mixinStandardHelpOptions = true,
      description =
          "Remove what containers of killed spindle processes left (runc, cgroups, mounts).")
  static final class Reap implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Override
    public Integer call() throws Exception {
      for (String id : new ContainerRuntime(common.home().containers()).reap()) {
        System.out.println("reaped " + id);
      }
      return 0;
    }
  }
}
