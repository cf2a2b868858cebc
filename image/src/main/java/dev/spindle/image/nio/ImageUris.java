package dev.spindle.image.nio;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The URI form of image paths, as zipfs's {@code jar:<file-uri>!/entry}: {@code
 * spindle:<file-uri>!/entry}. The image file's URI has every '!' escaped as {@code %21}, so the
 * first {@code "!/"} always separates it from the entry path, whatever either contains.
 */
final class ImageUris {
  static final String SCHEME = "spindle";
  private static final String SEPARATOR = "!/";

  private ImageUris() {}

  /** A parsed URI: the image file on the default file system, and the absolute entry path. */
  record Parts(Path imageFile, String entry) {}

  static URI toUri(Path imageFile, String absoluteEntry) {
    String file = imageFile.toUri().toASCIIString().replace("!", "%21");
    try {
      String entry = new URI(null, null, absoluteEntry, null).toASCIIString();
      return new URI(SCHEME + ":" + file + "!" + entry);
    } catch (URISyntaxException e) {
      throw new IllegalStateException("cannot form a URI for " + absoluteEntry, e);
    }
  }

  /** Splits {@code uri}; the entry is "/" when the URI names only the image file. */
  static Parts parse(URI uri) {
    if (!SCHEME.equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("URI scheme is not '" + SCHEME + "': " + uri);
    }
    String spec = uri.getRawSchemeSpecificPart();
    int sep = spec.indexOf(SEPARATOR);
    String file = sep < 0 ? spec : spec.substring(0, sep);
    String entry = sep < 0 ? "/" : spec.substring(sep + 1);
    try {
      URI fileUri = new URI(file);
      if (!"file".equalsIgnoreCase(fileUri.getScheme())) {
        throw new IllegalArgumentException(
            "a spindle URI must name its image with a file: URI, got: " + uri);
      }
      return new Parts(Path.of(fileUri), new URI(entry).getPath());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("malformed spindle URI: " + uri, e);
    }
  }
}
