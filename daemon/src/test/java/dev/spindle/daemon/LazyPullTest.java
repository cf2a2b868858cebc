package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.lazy.LazyImages;
import dev.spindle.image.lazy.LazyImages.CacheStats;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node serves an image; other homes in this JVM pull it over HTTP, whole or lazily, and read
 * it through {@link Image}, the NIO provider and the shared object cache.
 */
class LazyPullTest {
  private static final int FILES = 24;
  private static final int FILE_SIZE = 32 << 10;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir static Path tmp;
  static DaemonProcess node;
  static Path source;
  static Path served;

  @BeforeAll
  static void start() throws Exception {
    node = DaemonProcess.start(tmp.resolve("node"));
    source = Files.createDirectories(tmp.resolve("src"));
    Random r = new Random(42);
    Files.createDirectories(source.resolve("big"));
    for (int i = 0; i < FILES; i++) {
      byte[] b = new byte[FILE_SIZE]; // random: neither compresses nor deltas
      r.nextBytes(b);
      Files.write(source.resolve("big/f%02d.bin".formatted(i)), b);
    }
    Files.createDirectories(source.resolve("etc"));
    Files.writeString(source.resolve("etc/hello.txt"), "hello from the node\n");
    Files.createSymbolicLink(source.resolve("etc/link"), Path.of("hello.txt"));
    node.client().makeImage(new MakeImage(source.toString(), "src"));
    served = node.home.resolve("images/src.img");
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  private static SpindleHome home(String name) {
    return new SpindleHome(tmp.resolve(name));
  }

  private static VerifyReport pullLazy(SpindleHome h, String url) throws Exception {
    return LazyImages.pullLazy(
        h, Tag.of("app"), URI.create(url), node.token(), "src", Progress.NONE);
  }

  private static byte[] sourceFile(String path) throws IOException {
    return Files.readAllBytes(source.resolve(path));
  }

  @Test
  void aLazyPullStoresMetadataOnlyAndReadsFetchOnlyTheBlobsRead() throws Exception {
    SpindleHome h = home("lazy");
    assertThat(pullLazy(h, node.url).ok()).isTrue();
    Path img = new ImageStore(h).path(Tag.of("app"));
    long full = Files.size(served);
    assertThat(Files.size(img)).isLessThan(full / 20);
    assertThat(LazyImages.isLazy(img)).isTrue();

    try (Image i = Image.open(img, AccessMode.LAZY)) {
      // Listing and sizes need no blob.
      assertThat(i.list(i.require("big"))).hasSize(FILES);
      assertThat(i.require("big/f03.bin").size()).isEqualTo(FILE_SIZE);
      assertThat(LazyImages.cacheStats(h).misses()).isZero();
      assertThat(i.read(i.require("big/f03.bin"))).isEqualTo(sourceFile("big/f03.bin"));
      assertThat(i.readLink(i.require("etc/link"))).isEqualTo("hello.txt");
    }
    try (FileSystem fs = FileSystems.newFileSystem(img, Map.of("mode", "indexed"))) {
      assertThat(Files.readAllBytes(fs.getPath("/etc/link")))
          .isEqualTo(sourceFile("etc/hello.txt"));
      assertThat(Files.readAllBytes(fs.getPath("/big/f17.bin")))
          .isEqualTo(sourceFile("big/f17.bin"));
    }
    CacheStats s = LazyImages.cacheStats(h);
    long read = 2L * FILE_SIZE + "hello.txt".length() + "hello from the node\n".length();
    assertThat(s.misses()).isEqualTo(4);
    assertThat(s.bytesFetched()).isEqualTo(read);
    assertThat(s.objects()).isEqualTo(4);
    System.out.printf(
        "lazy pull: metadata %d bytes of a %d-byte image; 4 files read fetched %d bytes%n",
        Files.size(img), full, s.bytesFetched());

    // A second image holding the same blobs shares the cache: nothing is fetched again.
    long hits = s.hits(); // the NIO provider read the link's blob again (a hit) to follow it
    assertThat(
            LazyImages.pullLazy(
                    h, Tag.of("again"), URI.create(node.url), node.token(), "src", Progress.NONE)
                .ok())
        .isTrue();
    try (Image i = Image.open(new ImageStore(h).path(Tag.of("again")), AccessMode.INDEXED)) {
      assertThat(i.read(i.require("big/f03.bin"))).isEqualTo(sourceFile("big/f03.bin"));
    }
    assertThat(LazyImages.cacheStats(h).bytesFetched()).isEqualTo(read);
    assertThat(LazyImages.cacheStats(h).hits()).isEqualTo(hits + 1);
  }

  @Test
  void aTightCacheEvictsTheLeastRecentlyReadAndALaterReadFetchesItAgain() throws Exception {
    SpindleHome h = home("tight");
    assertThat(pullLazy(h, node.url).ok()).isTrue();
    LazyImages.cacheSize(h, FILE_SIZE + FILE_SIZE / 2);
    try (Image i = Image.open(new ImageStore(h).path(Tag.of("app")), AccessMode.INDEXED)) {
      for (String f : new String[] {"big/f00.bin", "big/f01.bin", "big/f00.bin"}) {
        assertThat(i.read(i.require(f))).isEqualTo(sourceFile(f));
      }
    }
    CacheStats s = LazyImages.cacheStats(h);
    assertThat(s.misses()).isEqualTo(3);
    assertThat(s.evictions()).isEqualTo(2);
    assertThat(s.bytesFetched()).isEqualTo(3L * FILE_SIZE);
    assertThat(s.bytes()).isLessThanOrEqualTo(s.cap());
  }

  @Test
  void aTamperedObjectFromTheNodeIsRefused() throws Exception {
    // A stand-in node: the real metadata, but every blob with one byte flipped.
    HttpServer fake = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    fake.createContext(
        "/",
        x -> {
          try {
            byte[] real = get(node.url + x.getRequestURI().getPath(), null).body();
            if (x.getRequestURI().getPath().contains("/objects/")) {
              real[real.length / 2] ^= 1;
            }
            answer(x, 200, real);
          } catch (Exception e) {
            answer(x, 500, e.toString().getBytes());
          }
        });
    fake.start();
    try {
      SpindleHome h = home("tampered");
      String url = "http://127.0.0.1:" + fake.getAddress().getPort();
      assertThat(pullLazy(h, url).ok()).isTrue();
      try (Image i = Image.open(new ImageStore(h).path(Tag.of("app")), AccessMode.INDEXED)) {
        ImageEntry e = i.require("big/f05.bin");
        assertThatThrownBy(() -> i.read(e))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("object " + e.id().name() + " refused");
      }
      assertThat(LazyImages.cacheStats(h).objects()).isZero();
    } finally {
      fake.stop(0);
    }
  }

  @Test
  void aFullPullVerifiesAndStoresTheWholeImage() throws Exception {
    SpindleHome h = home("full");
    assertThat(pullLazy(h, node.url).ok()).isTrue(); // replaced by the full pull below
    VerifyReport r =
        LazyImages.pull(h, Tag.of("app"), URI.create(node.url), node.token(), "src", Progress.NONE);
    assertThat(r.ok()).isTrue();
    Path img = new ImageStore(h).path(Tag.of("app"));
    assertThat(Files.readAllBytes(img)).isEqualTo(Files.readAllBytes(served));
    assertThat(LazyImages.isLazy(img)).isFalse();
    try (Image i = Image.open(img, AccessMode.INDEXED)) {
      assertThat(i.read(i.require("big/f09.bin"))).isEqualTo(sourceFile("big/f09.bin"));
    }
    assertThat(LazyImages.cacheStats(h).misses()).isZero();

    // A pull of something that is not an image is refused and stores nothing.
    assertThatThrownBy(
            () ->
                LazyImages.pull(
                    h,
                    Tag.of("nope"),
                    URI.create(node.url),
                    node.token(),
                    "missing",
                    Progress.NONE))
        .hasMessageContaining("404");
    assertThat(new ImageStore(h).exists(Tag.of("nope"))).isFalse();
  }

  @Test
  void theFileRouteServesRangesAndNeedsTheToken() throws Exception {
    byte[] whole = Files.readAllBytes(served);
    String file = node.url + "/v1/images/src/file";
    HttpResponse<byte[]> head = get(file, "bytes=0-127");
    assertThat(head.statusCode()).isEqualTo(206);
    assertThat(head.body()).isEqualTo(Arrays.copyOf(whole, 128));
    assertThat(head.headers().firstValue("Content-Range")).hasValue("bytes 0-127/" + whole.length);
    HttpResponse<byte[]> tail = get(file, "bytes=-20");
    assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(whole, whole.length - 20, whole.length));
    assertThat(get(file, "bytes=" + whole.length + "-").statusCode()).isEqualTo(416);
    assertThat(get(file, null).body()).isEqualTo(whole);
    assertThat(
            HTTP.send(
                    HttpRequest.newBuilder(URI.create(file)).build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode())
        .isEqualTo(401);

    String blob = node.url + "/v1/images/src/objects/";
    try (Image i = Image.open(served, AccessMode.INDEXED)) {
      ImageEntry e = i.require("etc/hello.txt");
      assertThat(get(blob + e.id().name(), null).body()).isEqualTo(sourceFile("etc/hello.txt"));
      assertThat(get(blob + i.require("etc").id().name(), null).statusCode()).isEqualTo(404);
    }
    assertThat(get(blob + "nothex", null).statusCode()).isEqualTo(400);
    assertThat(new String(get(node.url + "/metrics", null).body()))
        .contains("spindle_object_cache_fetched_bytes")
        .contains("spindle_object_cache_cap_bytes");
  }

  @Test
  void blobsTravelGzippedWhenAskedAndTheNodeCountsWhatItSent() throws Exception {
    Path text = Files.createDirectories(tmp.resolve("text"));
    String line = "the same words again and again, as text files and libraries repeat themselves\n";
    Files.writeString(text.resolve("notes.txt"), line.repeat(2000));
    node.client().makeImage(new MakeImage(text.toString(), "text"));
    String id;
    try (Image i = Image.open(node.home.resolve("images/text.img"), AccessMode.INDEXED)) {
      id = i.require("notes.txt").id().name();
    }
    String blob = node.url + "/v1/images/text/objects/" + id;
    long before = metric("spindle_image_bytes_served");
    HttpResponse<byte[]> zipped =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(blob))
                .header("Authorization", "Bearer " + node.token())
                .header("Accept-Encoding", "gzip")
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(zipped.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(zipped.body().length).isLessThan(line.length() * 2000 / 20);
    try (var in =
        new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(zipped.body()))) {
      assertThat(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo(line.repeat(2000));
    }
    assertThat(metric("spindle_image_bytes_served") - before).isEqualTo(zipped.body().length);
    // Without asking, the blob comes as it is; and a lazy pull (which asks) reads it back whole.
    assertThat(get(blob, null).headers().firstValue("Content-Encoding")).isEmpty();
    SpindleHome h = home("gzip");
    assertThat(
            LazyImages.pullLazy(
                    h, Tag.of("t"), URI.create(node.url), node.token(), "text", Progress.NONE)
                .ok())
        .isTrue();
    try (Image i = Image.open(new ImageStore(h).path(Tag.of("t")), AccessMode.INDEXED)) {
      assertThat(i.read(i.require("notes.txt"))).hasSize(line.length() * 2000);
    }
  }

  private static long metric(String name) throws Exception {
    for (String l : new String(get(node.url + "/metrics", null).body()).split("\n")) {
      if (l.startsWith(name + " ")) {
        return (long) Double.parseDouble(l.substring(name.length() + 1).strip());
      }
    }
    throw new AssertionError("no metric " + name);
  }

  private static HttpResponse<byte[]> get(String url, String range) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + node.token());
    if (range != null) {
      b.header("Range", range);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static void answer(HttpExchange x, int status, byte[] body) throws IOException {
    x.sendResponseHeaders(status, body.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(body);
    }
  }
}
