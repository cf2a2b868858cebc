package dev.spindle.image;

import dev.spindle.image.make.ImageWriter;
import dev.spindle.store.AtomicFiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jgit.internal.storage.file.PackIndex;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * Rewrites an image with the files a run opened (its profile, in first-open order) first and
 * contiguous in the PACK, right after the commit and trees, and the rest after them. Same commit,
 * root and path index: the same files, only their placement changes, so the hot part is one prefix
 * of the file to ship eagerly and read ahead in recorded order.
 */
public final class ImageDebloater {
  private ImageDebloater() {}

  /**
   * What debloat did: the new file's size, the PACK prefix holding metadata and hot files, their
   * contents' size, and how many files are hot and cold.
   */
  public record Report(
      long imageBytes,
      long hotPrefixBytes,
      long hotContentBytes,
      int hotFiles,
      int coldFiles,
      List<String> unknownPaths) {}

  public static Report debloat(Path image, List<String> hotPaths, Path out) throws IOException {
    List<String> unknown = new ArrayList<>();
    Set<ObjectId> hot = new LinkedHashSet<>();
    Set<ObjectId> cold = new LinkedHashSet<>();
    long hotContent = 0;
    int hotFiles = 0;
    int coldFiles = 0;
    try (Image img = Image.open(image, AccessMode.INDEXED)) {
      for (String p : hotPaths) {
        Optional<ImageEntry> e = img.lookup(p);
        if (e.isEmpty() || e.get().isDirectory()) {
          unknown.add(p);
        } else if (hot.add(e.get().id())) {
          hotContent += e.get().size();
        }
      }
      List<ImageEntry> all;
      try (ObjectReader reader = img.repository().newObjectReader()) {
        all = ImageWriter.entries(reader, img.root());
      }
      for (ImageEntry e : all) {
        if (e.isDirectory() || e.mode() == ImageEntry.GITLINK) {
          continue;
        }
        if (hot.contains(e.id())) {
          hotFiles++;
        } else {
          coldFiles++;
          cold.add(e.id());
        }
      }
      List<ObjectId> order = new ArrayList<>(hot);
      order.addAll(cold);
      byte[] pathIndex = img.pathIndexSection();
      AtomicFiles.write(
          out,
          ch ->
              new ImageWriter(ImageWriter.PackSettings.DEFAULT, Progress.NONE)
                  .writeSelected(
                      img.repository(),
                      img.header().commit(),
                      pathIndex,
                      img.metadataSection(),
                      order,
                      ch));
    }
    return new Report(
        java.nio.file.Files.size(out),
        hotPrefix(out, cold),
        hotContent,
        hotFiles,
        coldFiles,
        List.copyOf(unknown));
  }

  /** Bytes from the start of the PACK to its first cold blob (the whole PACK when none is cold). */
  private static long hotPrefix(Path out, Set<ObjectId> cold) throws IOException {
    try (Image img = Image.open(out, AccessMode.LAZY)) {
      ImageHeader h = img.header();
      ByteBuffer idx = ByteBuffer.allocate(Math.toIntExact(h.idxLength()));
      while (idx.hasRemaining() && img.channel().read(idx, h.idxOffset() + idx.position()) > 0) {}
      PackIndex pi = PackIndex.read(new ByteArrayInputStream(idx.array()));
      long first = h.packLength();
      for (ObjectId id : cold) {
        first = Math.min(first, pi.findOffset(id));
      }
      return first;
    }
  }
}
