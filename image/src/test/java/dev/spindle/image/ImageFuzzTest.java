package dev.spindle.image;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Images are outside bytes: whatever a file holds, verify reports problems and readers throw {@link
 * IOException}s, never anything else. In CI this replays the seed corpus beside this class
 * (ImageFuzzTestInputs/); {@code JAZZER_FUZZ=1 mvn -pl image test -Dtest=ImageFuzzTest} fuzzes.
 */
class ImageFuzzTest {
  @FuzzTest(maxDuration = "60s")
  void verifyAndReadNeverThrowUnchecked(byte[] data) throws IOException {
    Path p = Files.createTempFile("fuzz-", ".img");
    try {
      Files.write(p, data);
      VerifyReport r = new ImageVerifier(Progress.NONE).verify(p);
      if (r.ok() != r.problems().isEmpty()) {
        throw new AssertionError("report inconsistent");
      }
      for (AccessMode mode : AccessMode.values()) {
        try (Image img = Image.open(p, mode)) {
          PathResolver resolver = new PathResolver(img);
          for (String path : new String[] {"a", "a/b", "README.md", "docs/latest/guide.md"}) {
            var e = resolver.tryResolve(path, true);
            if (e.isPresent() && !e.get().isDirectory()) {
              img.read(e.get());
            }
          }
          for (ImageEntry e : img.list(img.rootEntry())) {
            img.lookup(e.path());
          }
          img.commit();
        } catch (IOException expected) {
          // Damaged images are reported as IOExceptions: that is the contract.
        }
      }
    } finally {
      Files.deleteIfExists(p);
    }
  }
}
