package dev.spindle.image.make;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.eclipse.jgit.lib.RepositoryCache;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.util.FS;

/** What {@code image make} reads: a plain directory, a local repository, or a remote URL. */
sealed interface ImageSource {
  record Directory(Path dir) implements ImageSource {}

  record LocalRepository(Path gitDir) implements ImageSource {}

  record RemoteRepository(URIish uri) implements ImageSource {}

  Pattern URL = Pattern.compile("^(https?|git|ssh|git\\+ssh)://.*");
  // scp-like syntax: [user@]host:path, where host has no '/' before the ':'.
  Pattern SCP = Pattern.compile("^([^@/:]+@)?[^/:]+:.+");

  static ImageSource parse(String source, boolean directoryAsFiles) {
    if (source.startsWith("file://")) {
      Path p = Path.of(source.substring("file://".length()));
      return local(p, source);
    }
    if (URL.matcher(source).matches()
        || (SCP.matcher(source).matches() && !Files.exists(Path.of(source)))) {
      try {
        return new RemoteRepository(new URIish(source));
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("SOURCE: not a valid Git URL: " + source, e);
      }
    }
    Path p = Path.of(source);
    if (!Files.exists(p)) {
      throw new IllegalArgumentException("SOURCE: no such directory or repository: " + source);
    }
    if (!Files.isDirectory(p)) {
      throw new IllegalArgumentException(
          "SOURCE: " + source + " is a file; give a directory, a Git repository or a Git URL");
    }
    if (!directoryAsFiles) {
      Path gitDir = gitDir(p);
      if (gitDir != null) {
        return new LocalRepository(gitDir);
      }
    }
    return new Directory(p);
  }

  private static ImageSource local(Path p, String source) {
    Path gitDir = Files.isDirectory(p) ? gitDir(p) : null;
    if (gitDir == null) {
      throw new IllegalArgumentException("SOURCE: " + source + " is not a Git repository");
    }
    return new LocalRepository(gitDir);
  }

  /** The repository at {@code dir} (a work tree with .git, or a bare repository), or null. */
  private static Path gitDir(Path dir) {
    Path dotGit = dir.resolve(".git");
    if (RepositoryCache.FileKey.isGitRepository(dotGit.toFile(), FS.DETECTED)) {
      return dotGit;
    }
    if (RepositoryCache.FileKey.isGitRepository(dir.toFile(), FS.DETECTED)) {
      return dir;
    }
    return null;
  }
}
