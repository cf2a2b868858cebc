package dev.spindle.image.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.ProviderMismatchException;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.PatternSyntaxException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paths and path matchers of an image file system, cross-checked against the default (Unix) file
 * system: the same strings must give the same answers.
 */
final class ImagePathTest {
  private static final List<String> PATHS =
      List.of(
          "",
          "/",
          "a",
          "a/b",
          "/a",
          "/a/b",
          "/a/b/c",
          "a/../b",
          "./a",
          "a/./b/..",
          "../x",
          "/..",
          "/../a",
          "a/b/../../..",
          "..",
          ".",
          "b/a",
          "a/b/c/d",
          "x/y",
          "é/日本",
          "a//b/",
          ".hidden",
          "/a/b.txt",
          "\uFFFD",
          "\uD83D\uDE00",
          "a b");

  @TempDir static Path tmp;
  static FileSystem fs;
  static FileSystem other;
  static final FileSystem UNIX = FileSystems.getDefault();

  @BeforeAll
  static void open() throws IOException {
    fs = FileSystems.newFileSystem(tinyImage("one"));
    other = FileSystems.newFileSystem(tinyImage("two"));
  }

  private static Path tinyImage(String name) throws IOException {
    Path src = Files.createDirectories(tmp.resolve(name));
    Files.writeString(src.resolve("f"), name);
    Path image = tmp.resolve(name + ".img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE).make(src.toString(), image);
    return image;
  }

  @AfterAll
  static void close() throws IOException {
    fs.close();
    other.close();
  }

  private static String str(Path p) {
    return p == null ? null : p.toString();
  }

  /** Each one-path method gives what the default file system gives for the same string. */
  @Test
  void singlePathMethodsMatchTheDefaultFileSystem() {
    List<Function<Path, Object>> methods =
        List.of(
            Path::toString,
            Path::isAbsolute,
            Path::getNameCount,
            p -> str(p.getFileName()),
            p -> str(p.getParent()),
            p -> str(p.getRoot()),
            p -> str(p.normalize()),
            p -> names(p),
            p -> p.getNameCount() > 1 ? str(p.subpath(1, p.getNameCount())) : null,
            p -> p.getNameCount() > 0 ? str(p.getName(p.getNameCount() - 1)) : null);
    assertSoftly(
        soft -> {
          for (String s : PATHS) {
            for (Function<Path, Object> m : methods) {
              soft.assertThat(m.apply(fs.getPath(s)))
                  .as("'%s'", s)
                  .isEqualTo(m.apply(UNIX.getPath(s)));
            }
          }
        });
  }

  private static List<String> names(Path p) {
    List<String> out = new ArrayList<>();
    p.forEach(n -> out.add(n.toString()));
    return out;
  }

  /** resolve, relativize, startsWith, endsWith, equals, compareTo: every pair of sample paths. */
  @Test
  void twoPathMethodsMatchTheDefaultFileSystem() {
    assertSoftly(
        soft -> {
          for (String a : PATHS) {
            for (String b : PATHS) {
              Path ia = fs.getPath(a);
              Path ib = fs.getPath(b);
              Path ua = UNIX.getPath(a);
              Path ub = UNIX.getPath(b);
              String pair = "'" + a + "', '" + b + "'";
              soft.assertThat(str(ia.resolve(ib)))
                  .as("resolve " + pair)
                  .isEqualTo(str(ua.resolve(ub)));
              soft.assertThat(ia.startsWith(ib))
                  .as("startsWith " + pair)
                  .isEqualTo(ua.startsWith(ub));
              soft.assertThat(ia.endsWith(ib)).as("endsWith " + pair).isEqualTo(ua.endsWith(ub));
              soft.assertThat(ia.startsWith(b))
                  .as("startsWith(String) " + pair)
                  .isEqualTo(ua.startsWith(b));
              soft.assertThat(ia.equals(ib)).as("equals " + pair).isEqualTo(ua.equals(ub));
              soft.assertThat(Integer.signum(ia.compareTo(ib)))
                  .as("compareTo " + pair)
                  .isEqualTo(Integer.signum(ua.compareTo(ub)));
              if (ia.isAbsolute() == ib.isAbsolute()) {
                // The JDK's relativize answers differ between releases for '.' and '..' inputs;
                // compare on normalized paths, where its answer is settled.
                Path in = ia.normalize();
                Path un = ua.normalize();
                String expected;
                try {
                  expected = str(un.relativize(ub.normalize()));
                } catch (IllegalArgumentException e) {
                  soft.assertThatThrownBy(() -> in.relativize(ib.normalize()))
                      .as("relativize " + pair)
                      .isInstanceOf(IllegalArgumentException.class);
                  continue;
                }
                soft.assertThat(str(in.relativize(ib.normalize())))
                    .as("relativize " + pair)
                    .isEqualTo(expected);
                soft.assertThat(in.resolve(in.relativize(ib.normalize())).normalize())
                    .as("resolve(relativize) " + pair)
                    .isEqualTo(ib.normalize());
              } else {
                soft.assertThatThrownBy(() -> ia.relativize(ib))
                    .as("relativize " + pair)
                    .isInstanceOf(IllegalArgumentException.class);
              }
            }
          }
        });
  }

  @Test
  void equalPathsHaveEqualHashCodesAndOrderConsistently() {
    assertThat(fs.getPath("a/b"))
        .isEqualTo(fs.getPath("a", "b"))
        .isEqualTo(fs.getPath("a//b/"))
        .hasSameHashCodeAs(fs.getPath("a", "", "b"));
    assertThat(fs.getPath("a/b"))
        .isNotEqualTo(fs.getPath("/a/b"))
        .isNotEqualTo(null)
        .isNotEqualTo("a/b")
        .isNotEqualTo(other.getPath("a/b"))
        .isNotEqualTo(Path.of("a/b"));
    assertThat(fs.getPath("a").compareTo(fs.getPath("a"))).isZero();
    assertThat(fs.getPath("a").compareTo(fs.getPath("b"))).isNegative();
    assertThat(fs.getPath("b").compareTo(fs.getPath("a"))).isPositive();
    assertThat(fs.getPath("a").startsWith(other.getPath("a"))).isFalse();
    assertThat(fs.getPath(""))
        .hasToString("")
        .isEqualTo(fs.getPath("a").relativize(fs.getPath("a")));
    assertThat(fs.getPath("").toAbsolutePath()).isEqualTo(fs.getPath("/"));
    assertThat(fs.getPath("x/y").toAbsolutePath()).hasToString("/x/y");
  }

  @Test
  void pathsOfOtherFileSystemsAreRefused() {
    Path mine = fs.getPath("a");
    assertThatThrownBy(() -> mine.resolve(Path.of("b")))
        .isInstanceOf(ProviderMismatchException.class);
    assertThatThrownBy(() -> mine.resolve(other.getPath("b")))
        .isInstanceOf(ProviderMismatchException.class);
    assertThatThrownBy(() -> mine.relativize(Path.of("b")))
        .isInstanceOf(ProviderMismatchException.class);
    assertThatThrownBy(() -> fs.provider().readAttributes(Path.of("/"), BasicFileAttributes.class))
        .isInstanceOf(ProviderMismatchException.class);
    assertThatThrownBy(() -> fs.provider().newDirectoryStream(Path.of("/"), p -> true))
        .isInstanceOf(ProviderMismatchException.class);
    assertThatThrownBy(() -> mine.resolve((Path) null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void badIndicesAndUnsupportedCallsThrow() {
    Path p = fs.getPath("/a/b");
    assertThatThrownBy(() -> p.getName(2)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> p.subpath(1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> fs.getPath("/").getName(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> fs.getPath("a\0b")).isInstanceOf(InvalidPathException.class);
    assertThatThrownBy(p::toFile).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> p.register(null, StandardWatchEventKinds.ENTRY_CREATE))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  // ---- matchers ----

  private static final List<String> GLOBS =
      List.of(
          "*",
          "*.txt",
          "**",
          "**/*.txt",
          "a/*",
          "a/**",
          "?",
          "a?c",
          "[abc]",
          "[!abc]",
          "[a-c]x",
          "{a,b}/c",
          "*.{txt,md}",
          "\\*",
          "[-a]",
          "[a-]",
          "**.md",
          "a/**/d",
          "/a/*",
          "*/*",
          "{}",
          "a.b",
          "a+b(c)|d^$",
          "[[]",
          "[a&&b]",
          "日*",
          "{a,}");
  private static final List<String> MATCHED =
      List.of(
          "a",
          "b",
          "abc",
          "a.txt",
          "a/b",
          "a/b.txt",
          "a/b/c/d",
          "/a/b.txt",
          "/a/x",
          "-",
          "*",
          ".hidden",
          "x.md",
          "a/c",
          "b/c",
          "c/c",
          "axc",
          "a/d",
          "a.b",
          "axb",
          "a+b(c)|d^$",
          "[",
          "&",
          "日本",
          "");

  @Test
  void globsMatchAsOnTheDefaultFileSystem() {
    assertSoftly(
        soft -> {
          for (String glob : GLOBS) {
            PathMatcher mine = fs.getPathMatcher("glob:" + glob);
            PathMatcher unix = UNIX.getPathMatcher("glob:" + glob);
            for (String s : MATCHED) {
              soft.assertThat(mine.matches(fs.getPath(s)))
                  .as("glob '%s' on '%s'", glob, s)
                  .isEqualTo(unix.matches(UNIX.getPath(s)));
            }
          }
        });
  }

  @Test
  void badGlobsFailAsOnTheDefaultFileSystem() {
    for (String glob : List.of("{a,{b}}", "[a", "[a-", "[z-a]", "[a/b]", "a\\", "{a")) {
      assertThatThrownBy(() -> UNIX.getPathMatcher("glob:" + glob))
          .as(glob)
          .isInstanceOf(PatternSyntaxException.class);
      assertThatThrownBy(() -> fs.getPathMatcher("glob:" + glob))
          .as(glob)
          .isInstanceOf(PatternSyntaxException.class);
    }
  }

  @Test
  void regexAndSyntaxErrors() {
    PathMatcher m = fs.getPathMatcher("regex:/a/.*\\.txt");
    assertThat(m.matches(fs.getPath("/a/b.txt"))).isTrue();
    assertThat(m.matches(fs.getPath("a/b.txt"))).isFalse();
    assertThat(fs.getPathMatcher("GLOB:*.txt").matches(fs.getPath("x.txt"))).isTrue();
    assertThatThrownBy(() -> fs.getPathMatcher("sql:%"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> fs.getPathMatcher("*.txt"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anImageWithDefaultEnvOpensIndexed() throws IOException {
    assertThat(Files.readString(fs.getPath("/f"))).isEqualTo("one");
    assertThat(fs.provider()).isInstanceOf(SpindleFileSystemProvider.class);
    assertThat(FileSystems.getFileSystem(fs.getPath("/").toUri())).isSameAs(fs);
    assertThat(Map.of("k", fs.getPath("f"))).containsValue(fs.getPath("/f").getFileName());
  }
}
