package dev.spindle.image;

import java.time.OffsetDateTime;
import org.eclipse.jgit.lib.ObjectId;

/** The commit an image was made from, as {@code image verify} prints it. */
public record CommitInfo(
    ObjectId commit,
    ObjectId root,
    String author,
    String authorEmail,
    OffsetDateTime date,
    String message) {
  /** "Name <mail>", as git prints an identity. */
  public String authorIdent() {
    return author + " <" + authorEmail + ">";
  }
}
