package dev.spindle.image;

import java.time.OffsetDateTime;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How to make an image. {@code ref} picks the commit of a repository source (default HEAD);
 * {@code date} and {@code author} go into the commit synthesised for a directory source, so the
 * same tree, date and author always give a byte-identical image.
 */
public record MakeOptions(String ref, OffsetDateTime date, String authorName, String authorEmail,
    boolean directoryAsFiles) {
  private static final Pattern IDENT = Pattern.compile("\\s*(.*?)\\s*<([^<>]*)>\\s*");
  public static final String DEFAULT_NAME = "Spindle";
  public static final String DEFAULT_EMAIL = "spindle@localhost";

  public static MakeOptions defaults() {
    return new MakeOptions(null, null, DEFAULT_NAME, DEFAULT_EMAIL, false);
  }

  public MakeOptions withRef(String r) {
    return new MakeOptions(r, date, authorName, authorEmail, directoryAsFiles);
  }

  public MakeOptions withDate(OffsetDateTime d) {
    return new MakeOptions(ref, d, authorName, authorEmail, directoryAsFiles);
  }

  /** Parses {@code "Name <mail>"}, as git prints an identity. */
  public MakeOptions withAuthor(String ident) {
    Matcher m = IDENT.matcher(ident);
    if (!m.matches() || m.group(1).isEmpty()) {
      throw new IllegalArgumentException(
          "--author must look like \"Name <mail@example.org>\", got: " + ident);
    }
    return new MakeOptions(ref, date, m.group(1), m.group(2), directoryAsFiles);
  }

  /** Treat a directory as plain files even when it holds a Git repository. */
  public MakeOptions withDirectoryAsFiles(boolean b) {
    return new MakeOptions(ref, date, authorName, authorEmail, b);
  }
}
