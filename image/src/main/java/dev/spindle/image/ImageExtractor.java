package dev.spindle.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes an image's tree (or a subtree) to a host directory: files with their executable bit,
 * symlinks as symlinks. Names are checked before they touch the host, so a crafted image cannot
 * write outside the target ('..', '.', '/' or NUL in a name is refused).
 */
public final class ImageExtractor {
  private final Image image;
  private final Progress progress;
  private long files;
  private long bytes;

  public ImageExtractor(Image image, Progress progress) {
    this.image = image;
    this.progress = progress;
  }

  /** Extracts {@code from} (a directory or a file of the image) into {@code target}. */
  public void extract(ImageEntry from, Path target) throws IOException {
    progress.begin("Extracting", 0);
    if (from.isDirectory()) {
      Files.createDirectories(target);
      extractTree(from, target);
    } else {
      Files.createDirectories(target.toAbsolutePath().getParent());
      extractOne(from, target);
    }
    progress.end();
  }

  public long files() {
    return files;
  }

  public long bytes() {
    return bytes;
  }

  private void extractTree(ImageEntry dir, Path target) throws IOException {
    for (ImageEntry e : image.list(dir)) {
      String name = e.name();
      if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
          || name.indexOf('\0') >= 0) {
        throw new IOException("image damaged: unsafe name '" + name + "' in " + dir.path());
      }
      Path t = target.resolve(name);
      if (e.isDirectory()) {
        Files.createDirectories(t);
        extractTree(e, t);
      } else {
        extractOne(e, t);
      }
    }
  }

  private void extractOne(ImageEntry e, Path t) throws IOException {
    if (Files.exists(t, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(t.toString(), null, "will not overwrite");
    }
    if (e.isSymlink()) {
      Files.createSymbolicLink(t, Path.of(image.readLink(e)));
    } else if (e.isRegularFile()) {
      try (InputStream in = image.open(e)) {
        bytes += Files.copy(in, t, StandardCopyOption.REPLACE_EXISTING);
      }
      Files.setPosixFilePermissions(
          t, PosixFilePermissions.fromString(e.isExecutable() ? "rwxr-xr-x" : "rw-r--r--"));
    } else {
      return; // a submodule (gitlink) has no content in the image
    }
    files++;
    progress.advance(1);
  }
}
