package dev.spindle.cli;

import dev.spindle.client.SpindleClient;
import dev.spindle.container.ContainerSpec;
import dev.spindle.container.RegistryImages;
import dev.spindle.fuse.AccessTraces;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.lazy.LazyImages;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Images from another node: {@code pull} (whole or lazy) and the object cache lazy images use. */
final class ImagePullCommands {
  private ImagePullCommands() {}

  @Command(
      name = "pull",
      mixinStandardHelpOptions = true,
      description = {
        "Fetch an image from a node, or from a bucket or registry it was pushed to ('image push').",
        "Whole (default): the image file, verified, then stored. --lazy: only its commit, trees",
        "and path index; file contents are fetched on first read, checked against their Git id",
        "and kept in the home's object cache. A bucket is s3://BUCKET[/PREFIX]?endpoint=URL, its",
        "keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. A registry is",
        "docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (lazily: contents by Range requests on the image blob)."
      })
  static final class Pull implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Mixin RegistryFlags registry;

    @Parameters(paramLabel = "TAG", description = "The image's tag on the node.")
    String tag;

    @Option(
        names = "--from",
        paramLabel = "NODE_URL|s3://BUCKET[/PREFIX]?endpoint=URL|docker://HOST/REPO:TAG",
        required = true,
        description =
            "The node serving the image (e.g. http://10.0.0.2:8889), a bucket or a registry.")
    URI from;

    @Option(
        names = "--token",
        paramLabel = "TOKEN",
        description =
            "The node's bearer token. Default: $SPINDLE_TOKEN, else the home's daemon.token.")
    String token;

    @Option(
        names = {"-t", "--tag"},
        paramLabel = "LOCAL_TAG",
        description = "Store under this tag (default: TAG).")
    String localTag;

    @Option(names = "--lazy", description = "Fetch metadata now, file contents on first read.")
    boolean lazy;

    @Option(
        names = "--cache-size",
        paramLabel = "SIZE",
        description = "Cap the home's object cache (e.g. 512M, 2G); kept for later runs.")
    String cacheSize;

    @Option(
        names = "--prefetch",
        paramLabel = "PROFILE",
        description =
            "With --lazy: fetch the files of PROFILE ('image profile') now, in recorded order.")
    Path prefetch;

    @Override
    public Integer call() throws Exception {
      if (from.toString().startsWith("docker://")) {
        return fromRegistry();
      }
      SpindleHome home = common.home();
      Tag t = Tag.of(localTag != null ? localTag : tag);
      if (cacheSize != null) {
        LazyImages.cacheSize(home, ContainerSpec.parseSize(cacheSize));
      }
      VerifyReport r = fromNodeOrBucket(common, from, token, tag, t, lazy);
      return reported(r, from + " " + tag, tag + " from " + from, t, home);
    }

    /**
     * Pulls {@code tag} from a node or a bucket into the store as {@code t}, whole or lazily; the
     * token defaults as for {@code image pull}. Shared with {@code container run --from}.
     */
    static VerifyReport fromNodeOrBucket(
        CommonOptions common, URI from, String token, String tag, Tag t, boolean lazy)
        throws Exception {
      SpindleHome home = common.home();
      String tok =
          token != null
              ? token
              : dev.spindle.bucket.Bucket.isBucket(from.toString())
                  ? ""
                  : SpindleClient.defaultToken(home.root());
      return lazy
          ? LazyImages.pullLazy(home, t, from, tok, tag, common.progress())
          : LazyImages.pull(home, t, from, tok, tag, common.progress());
    }

    /** Prints a failed pull's problems (each after {@code source}); true when it failed. */
    static boolean failed(VerifyReport r, String source, URI from) {
      if (r.ok()) {
        return false;
      }
      r.problems().forEach(p -> System.err.println(source + ": " + p));
      System.err.println("spindle: not pulled: the image from " + from + " is damaged");
      return true;
    }

    /**
     * The image of a registry artifact ('image push --to docker://…'); the registry's tag names it.
     */
    private int fromRegistry() throws Exception {
      Tag t = Tag.of(localTag != null ? localTag : tag);
      SpindleHome home = common.home();
      if (cacheSize != null) {
        LazyImages.cacheSize(home, ContainerSpec.parseSize(cacheSize));
      }
      VerifyReport r =
          lazy
              ? RegistryImages.pullLazy(
                  home, t, from.toString(), registry.options(home, null), common.progress())
              : RegistryImages.pull(
                  common.images(),
                  t,
                  from.toString(),
                  registry.options(home, null),
                  common.progress());
      return reported(r, from.toString(), from.toString(), t, home);
    }

    /**
     * What a pull (of a node's, a bucket's or a registry's image) left: its problems, each after
     * {@code source}, or where {@code pulled} is stored and what {@code --prefetch} fetched.
     */
    private int reported(VerifyReport r, String source, String pulled, Tag t, SpindleHome home)
        throws Exception {
      if (failed(r, source, from)) {
        return 1;
      }
      Path p = common.images().path(t);
      System.out.println(
          (lazy ? "pulled lazily " : "pulled ")
              + pulled
              + " as "
              + t
              + " (root "
              + r.commit().root().name()
              + ", "
              + Files.size(p)
              + " bytes stored)");
      if (lazy && prefetch != null) {
        int n = LazyImages.prefetch(p, AccessTraces.paths(prefetch));
        System.out.println(
            "prefetched "
                + n
                + " files of "
                + prefetch
                + " ("
                + LazyImages.cacheStats(home).bytesFetched()
                + " bytes fetched)");
      }
      return 0;
    }
  }

  @Command(
      name = "push",
      mixinStandardHelpOptions = true,
      description = {
        "Copy a whole image to an S3-compatible bucket, laid out for whole and lazy pulls:",
        "images/TAG.img, its metadata image and signature, and each file's content as",
        "objects/GIT_ID, shared by every image pushed there (blobs already there are not sent).",
        "Keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Or to an OCI registry,",
        "docker://HOST[:PORT]/REPO:TAG, as an artifact: the image file and its signature as blobs."
      })
  static final class Push implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Mixin RegistryFlags registry;

    @Parameters(paramLabel = "TAG|FILE", description = "The image to push.")
    String image;

    @Option(
        names = "--to",
        paramLabel = "s3://BUCKET[/PREFIX]?endpoint=URL|docker://HOST/REPO:TAG",
        required = true,
        description =
            "The bucket, e.g. 's3://images/prod?endpoint=http://10.0.0.9:9000', or a registry.")
    String to;

    @Option(
        names = {"-t", "--tag"},
        paramLabel = "REMOTE_TAG",
        description = "The tag in the bucket (default: the image's tag).")
    String remoteTag;

    @Override
    public Integer call() throws Exception {
      // Unchecked, like export: the signature goes with it and pullers apply their own policy.
      java.nio.file.Path file = common.images().locateUnchecked(image);
      if (to.startsWith("docker://")) {
        if (LazyImages.isLazy(file)) {
          throw new IllegalArgumentException(
              image + " was pulled lazily (its blobs are not here): pull it whole first");
        }
        RegistryImages.Pushed p =
            RegistryImages.push(file, to, registry.options(common.home(), null), common.progress());
        System.out.println(
            "pushed "
                + image
                + " to "
                + to
                + ": "
                + p.imageBytes()
                + " bytes of image, "
                + p.bytesSent()
                + " bytes sent, manifest "
                + p.manifestDigest());
        return 0;
      }
      String tag =
          remoteTag != null ? remoteTag : file.getFileName().toString().replaceFirst("\\.img$", "");
      if (!Tag.isValid(tag)) {
        throw new IllegalArgumentException(
            "'" + tag + "' is not a tag ([A-Za-z0-9_-]{1,64}): give one with -t");
      }
      LazyImages.Pushed p = LazyImages.push(file, tag, to, System.getenv(), common.progress());
      System.out.println(
          "pushed "
              + image
              + " as "
              + tag
              + ": "
              + p.imageBytes()
              + " bytes of image, "
              + p.blobs()
              + " blobs ("
              + p.blobBytes()
              + " bytes) sent, "
              + p.blobsPresent()
              + " already there");
      return 0;
    }
  }

  @Command(
      name = "cache",
      mixinStandardHelpOptions = true,
      description = "Show (and with --cache-size set) the object cache lazily pulled images share.")
  static final class Cache implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(
        names = "--cache-size",
        paramLabel = "SIZE",
        description = "New cap (e.g. 512M); evicts down to it.")
    String cacheSize;

    @Override
    public Integer call() throws Exception {
      SpindleHome home = common.home();
      if (cacheSize != null) {
        LazyImages.cacheSize(home, ContainerSpec.parseSize(cacheSize));
      }
      LazyImages.CacheStats s = LazyImages.cacheStats(home);
      System.out.println("cache    " + LazyImages.objectCache(home));
      System.out.println("objects  " + s.objects());
      System.out.println("bytes    " + s.bytes() + " of " + s.cap());
      System.out.println("evicted  " + s.evictions());
      return 0;
    }
  }
}
