package dev.spindle.image.make;

import dev.spindle.image.EntryMetadata;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How to make an image. {@code ref} picks the commit of a repository source (default HEAD); {@code
 * date} and {@code author} go into the commit synthesised for a directory source, so the same tree,
 * date and author always give a byte-identical image.
 */
public record MakeOptions(
    String ref,
    OffsetDateTime date,
    String authorName,
    String authorEmail,
    boolean directoryAsFiles,
    int packWindow,
    Owners owners,
    Map<String, EntryMetadata> metadata) {
  private static final Pattern IDENT = Pattern.compile("\\s*(.*?)\\s*<([^<>]*)>\\s*");
  public static final String DEFAULT_NAME = "Spindle";
  public static final String DEFAULT_EMAIL = "spindle@localhost";

  public static MakeOptions defaults() {
    return new MakeOptions(
        null,
        null,
        DEFAULT_NAME,
        DEFAULT_EMAIL,
        false,
        ImageWriter.PackSettings.DEFAULT.window(),
        Owners.forCurrentUser(),
        null);
  }

  public MakeOptions withRef(String r) {
    return new MakeOptions(
        r, date, authorName, authorEmail, directoryAsFiles, packWindow, owners, metadata);
  }

  public MakeOptions withDate(OffsetDateTime d) {
    return new MakeOptions(
        ref, d, authorName, authorEmail, directoryAsFiles, packWindow, owners, metadata);
  }

  /** Parses {@code "Name <mail>"}, as git prints an identity. */
  public MakeOptions withAuthor(String ident) {
    Matcher m = IDENT.matcher(ident);
    if (!m.matches() || m.group(1).isEmpty()) {
      throw new IllegalArgumentException(
          "--author must look like \"Name <mail@example.org>\", got: " + ident);
    }
    return new MakeOptions(
        ref, date, m.group(1), m.group(2), directoryAsFiles, packWindow, owners, metadata);
  }

  /** Treat a directory as plain files even when it holds a Git repository. */
  public MakeOptions withDirectoryAsFiles(boolean b) {
    return new MakeOptions(ref, date, authorName, authorEmail, b, packWindow, owners, metadata);
  }

  /**
   * The delta search window: how many similar objects each object is compared with. Larger finds
   * more deltas (smaller image) for more time; git gc --aggressive uses 250.
   */
  public MakeOptions withPackWindow(int w) {
    if (w < 0 || w > 10_000) {
      throw new IllegalArgumentException("--window must be between 0 and 10000, got: " + w);
    }
    return new MakeOptions(
        ref, date, authorName, authorEmail, directoryAsFiles, w, owners, metadata);
  }

  /** Which owners a directory's image records ({@link Owners}). */
  public MakeOptions withOwners(Owners o) {
    return new MakeOptions(
        ref, date, authorName, authorEmail, directoryAsFiles, packWindow, o, metadata);
  }

  /**
   * Metadata that wins over the directory's own, by path (mode bits, owner, attributes; the type
   * and hard links stay the directory's): an OCI import applies layers as an unprivileged user and
   * takes what the layer tars say.
   */
  public MakeOptions withMetadata(Map<String, EntryMetadata> m) {
    return new MakeOptions(
        ref,
        date,
        authorName,
        authorEmail,
        directoryAsFiles,
        packWindow,
        owners,
        m == null ? null : Map.copyOf(m));
  }
}
