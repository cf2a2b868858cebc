package dev.spindle.cli;

import dev.spindle.image.ImageHeader;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.image.make.Owners;
import dev.spindle.store.Tag;
import java.nio.file.Files;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "make",
    mixinStandardHelpOptions = true,
    description = {
      "Make an image from a directory, a local Git repository or a remote Git URL.",
      "For a directory a commit is synthesised: the same files, date and author give a",
      "byte-identical image. The root printed equals 'git add -A -f && git write-tree'.",
      "Beside the tree, a directory's image records every entry's mode bits, hard links,",
      "extended attributes and empty directories, and its owners: as root the files' own,",
      "otherwise none (readers show root) unless --owner names one.",
    },
    footer = {
      "",
      "Examples:",
      "  spindle image make ./site -t site -d 2026-01-01T00:00:00Z",
      "  spindle image make https://example.org/repo.git -b v1.2 -t repo",
      "  spindle image make file:///srv/repo.git -t repo"
    })
final class ImageMakeCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Parameters(
      index = "0",
      paramLabel = "SOURCE",
      description =
          "A directory, a local repository (path or file://), or a Git URL (https://, git://,"
              + " ssh://, user@host:path).")
  String source;

  @Option(
      names = {"-t", "--tag"},
      required = true,
      description = "Tag to store the image under.")
  String tag;

  @Option(
      names = {"-b", "--ref"},
      description = "Branch, tag or ref of a repository (default HEAD).")
  String ref;

  @Option(
      names = {"-d", "--date"},
      paramLabel = "RFC3339",
      description = "Commit date for a directory source, e.g. 2026-01-01T00:00:00Z (default now).")
  String date;

  @Option(
      names = "--author",
      paramLabel = "\"Name <mail>\"",
      description = "Commit author for a directory source.")
  String author;

  @Option(
      names = "--files",
      description = "Treat a directory as plain files even if it is a Git repository.")
  boolean files;

  @Option(
      names = "--window",
      paramLabel = "N",
      description = "Delta search window (default 10, as git gc; 250 as git gc --aggressive).")
  Integer window;

  @Option(
      names = "--owner",
      paramLabel = "UID:GID",
      description =
          "Record this owner for every entry of a directory (default: the files' own as root, none otherwise).")
  String owner;

  @Option(
      names = "--no-owners",
      description = "Record no owners, even as root (readers show root).")
  boolean noOwners;

  @Option(names = "--force", description = "Replace an existing image with the same tag.")
  boolean force;

  @Mixin NodeOptions node;

  @Option(
      names = "--no-wait",
      description = "With --node: return at once; the image is made in the background.")
  boolean noWait;

  @Override
  public Integer call() throws Exception {
    if (node.remote()) {
      if (date != null
          || author != null
          || window != null
          || files
          || force
          || owner != null
          || noOwners) {
        throw new IllegalArgumentException(
            "--date, --author, --window, --files, --owner, --no-owners and --force"
                + " are for embedded makes, not with --node");
      }
      return RemoteImages.make(node.client(common.home()), source, tag, ref, !noWait);
    }
    if (noWait) {
      throw new IllegalArgumentException(
          "--no-wait goes with --node (an embedded make always waits)");
    }
    Tag t = Tag.of(tag);
    var store = common.images();
    if (store.exists(t) && !force) {
      throw new IllegalArgumentException(
          "an image tagged '" + tag + "' exists already (use --force to replace it)");
    }
    MakeOptions o = MakeOptions.defaults().withRef(ref).withDirectoryAsFiles(files);
    if (date != null) {
      try {
        o = o.withDate(OffsetDateTime.parse(date));
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(
            "--date must be RFC 3339, e.g. 2026-01-01T00:00:00Z, got: " + date);
      }
    }
    if (window != null) {
      o = o.withPackWindow(window);
    }
    if (author != null) {
      o = o.withAuthor(author);
    }
    if (owner != null && noOwners) {
      throw new IllegalArgumentException("--owner and --no-owners contradict each other: give one");
    }
    if (owner != null) {
      o = o.withOwners(Owners.parse(owner));
    } else if (noOwners) {
      o = o.withOwners(Owners.NONE);
    }
    long t0 = System.nanoTime();
    ImageHeader h = store.make(source, t, o, common.progress());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    long size = Files.size(store.path(t));
    System.out.printf("tag     %s%n", tag);
    System.out.printf("commit  %s%n", h.commit().name());
    System.out.printf("root    %s%n", h.root().name());
    System.out.printf("objects %d, %d bytes, made in %d ms%n", h.objectCount(), size, ms);
    return 0;
  }
}
