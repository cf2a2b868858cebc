package dev.spindle.image.lazy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A lazy image read from a hostile node (a real HTTP server on 127.0.0.1): a blob answered with a
 * gzip bomb, or with more bytes than the path index says, fails naming the object, with bounded
 * memory, and nothing reaches the object cache; honest gzipped blobs still read.
 */
class NodeImagesTest {
  private static final long GIB = 1L << 30;

  @TempDir Path tmp;
  HttpServer server;
  ExecutorService handlers;
  Path image;

  /** What the node answers for a blob: honest unless a test says otherwise. */
  final Map<String, Answer> answers = new ConcurrentHashMap<>();

  enum Answer {
    BOMB,
    OVERSIZED
  }

  @BeforeEach
  void start() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    byte[] big = new byte[64 * 1024];
    new Random(7).nextBytes(big);
    Files.write(src.resolve("a.bin"), big);
    Files.writeString(src.resolve("readme.txt"), "read me\n");
    image = tmp.resolve("app.img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE).make(src.toString(), image);
    Path metadata = tmp.resolve("app.metadata.img");
    LazyImages.writeMetadata(image, metadata);

    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    handlers = Executors.newCachedThreadPool();
    server.setExecutor(handlers);
    server.createContext(
        "/v1/images/app/",
        x -> {
          try (x) {
            String what = x.getRequestURI().getPath().substring("/v1/images/app/".length());
            if (what.equals("metadata")) {
              x.sendResponseHeaders(200, Files.size(metadata));
              try (OutputStream out = x.getResponseBody()) {
                Files.copy(metadata, out);
              }
            } else if (what.startsWith("objects/")) {
              blob(x, what.substring("objects/".length()));
            } else {
              x.sendResponseHeaders(404, -1);
            }
          } catch (IOException e) {
            // The puller hung up on a bomb: what the test wants.
          }
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    handlers.shutdownNow();
  }

  private void blob(HttpExchange x, String id) throws IOException {
    byte[] content = LazyImages.readBlob(image, id).orElseThrow();
    Answer a = answers.get(id);
    if (a == Answer.OVERSIZED) {
      byte[] more = java.util.Arrays.copyOf(content, content.length + 4096);
      x.sendResponseHeaders(200, more.length);
      x.getResponseBody().write(more);
      return;
    }
    x.getResponseHeaders().set("Content-Encoding", "gzip");
    x.sendResponseHeaders(200, 0); // chunked
    try (OutputStream out = new GZIPOutputStream(x.getResponseBody(), 64 << 10)) {
      if (a != Answer.BOMB) {
        out.write(content);
        return;
      }
      // 1 GiB of zeros, deflated as it is written (about 1 MiB on the wire), never held whole.
      byte[] zeros = new byte[64 << 10];
      for (long n = 0; n < GIB; n += zeros.length) {
        out.write(zeros);
      }
    }
  }

  private Path pullLazily(SpindleHome home) throws IOException {
    URI node = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    VerifyReport r = LazyImages.pullLazy(home, Tag.of("app"), node, "", "app", Progress.NONE);
    assertThat(r.ok()).as("%s", r.problems()).isTrue();
    return new ImageStore(home).path(Tag.of("app"));
  }

  private static String idOf(Path image, String path) throws IOException {
    try (Image img = Image.open(image, AccessMode.INDEXED)) {
      return img.require(path).id().name();
    }
  }

  private static long cachedFiles(SpindleHome home) throws IOException {
    Path objects = LazyImages.objectCache(home);
    try (Stream<Path> s = Files.walk(objects)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().equals("cache-size"))
          .count();
    }
  }

  @Test
  void aGzipBombForASmallBlobFailsNamingItWithBoundedMemoryAndNothingCached() throws Exception {
    String readme = idOf(image, "readme.txt");
    answers.put(readme, Answer.BOMB);
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    Path lazy = pullLazily(home);

    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    try (Image img = Image.open(lazy, AccessMode.INDEXED)) {
      ImageEntry e = img.require("readme.txt");
      assertThatThrownBy(() -> img.read(e))
          .hasStackTraceContaining("object " + readme + ": the node sent more than 8 bytes");
      // Honest blobs of the same image, gzipped too, still read.
      assertThat(img.read(img.require("a.bin")))
          .isEqualTo(Files.readAllBytes(tmp.resolve("src/a.bin")));
    }
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    // Unbounded, the read inflated the whole GiB (and copied it); bounded, it stops at 9 bytes.
    assertThat(allocated).as("bytes allocated by the read").isLessThan(64L << 20);
    assertThat(cachedFiles(home)).as("objects cached").isEqualTo(1); // a.bin alone
    assertThat(LazyImages.cacheStats(home).objects()).isEqualTo(1);
  }

  @Test
  void moreBytesThanThePathIndexSaysFailNamingTheObject() throws Exception {
    String big = idOf(image, "a.bin");
    answers.put(big, Answer.OVERSIZED);
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    Path lazy = pullLazily(home);
    try (Image img = Image.open(lazy, AccessMode.INDEXED)) {
      ImageEntry e = img.require("a.bin");
      assertThatThrownBy(() -> img.read(e))
          .hasStackTraceContaining(
              "object " + big + ": the node sent more than " + (64 * 1024) + " bytes");
      assertThat(new String(img.read(img.require("readme.txt")), StandardCharsets.UTF_8))
          .isEqualTo("read me\n");
    }
    assertThat(cachedFiles(home)).isEqualTo(1); // readme.txt alone
  }
}
