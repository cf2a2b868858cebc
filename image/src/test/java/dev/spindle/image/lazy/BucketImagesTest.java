package dev.spindle.image.lazy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.S3ProxyServer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images pushed to a real S3 API (S3Proxy in-process, the AWS SDK as client) and pulled from it,
 * whole and lazily: blobs are shared between pushes, a lazy read fetches only what it reads, and a
 * tampered object in the bucket is refused, naming it.
 */
class BucketImagesTest {
  @TempDir Path tmp;
  S3ProxyServer s3;
  String spec;
  final Map<String, String> env =
      Map.of("AWS_ACCESS_KEY_ID", "access", "AWS_SECRET_ACCESS_KEY", "secret-key");

  @BeforeEach
  void start() throws Exception {
    s3 = S3ProxyServer.start("images");
    spec = "s3://images/prod?endpoint=" + s3.endpoint();
    // A lazy image reads its bucket later, with the keys of the process reading it.
    System.setProperty("aws.accessKeyId", "access");
    System.setProperty("aws.secretAccessKey", "secret-key");
  }

  @AfterEach
  void stop() throws Exception {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    s3.close();
  }

  private Path image(String name, String... files) throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src-" + name));
    Random r = new Random(name.hashCode());
    for (String f : files) {
      byte[] b = new byte[64 * 1024];
      r.nextBytes(b);
      Files.write(src.resolve(f), b);
    }
    Files.writeString(src.resolve("readme.txt"), "read me\n");
    Path out = tmp.resolve(name + ".img");
    new ImageMaker(MakeOptions.defaults(), Progress.NONE).make(src.toString(), out);
    return out;
  }

  @Test
  void pushedImagesPullWholeAndLazilyAndShareBlobs() throws Exception {
    Path app = image("app", "a.bin", "b.bin", "c.bin");
    LazyImages.Pushed first = LazyImages.push(app, "app", spec, env, Progress.NONE);
    assertThat(first.blobs()).isEqualTo(4);
    assertThat(first.blobsPresent()).isZero();
    // The same files again: nothing but the image and its metadata travel.
    LazyImages.Pushed again = LazyImages.push(app, "app2", spec, env, Progress.NONE);
    assertThat(again.blobs()).isZero();
    assertThat(again.blobsPresent()).isEqualTo(4);

    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    VerifyReport whole =
        LazyImages.pull(home, Tag.of("whole"), URI.create(spec), "", "app", Progress.NONE);
    assertThat(whole.ok()).as("%s", whole.problems()).isTrue();
    assertThat(Files.mismatch(new ImageStore(home).path(Tag.of("whole")), app)).isEqualTo(-1);

    VerifyReport lazy =
        LazyImages.pullLazy(home, Tag.of("lazy"), URI.create(spec), "", "app2", Progress.NONE);
    assertThat(lazy.ok()).as("%s", lazy.problems()).isTrue();
    try (Image img = Image.open(new ImageStore(home).path(Tag.of("lazy")), AccessMode.INDEXED)) {
      assertThat(new String(img.read(img.require("readme.txt")), StandardCharsets.UTF_8))
          .isEqualTo("read me\n");
    }
    LazyImages.CacheStats s = LazyImages.cacheStats(home);
    assertThat(s.misses()).isEqualTo(1);
    assertThat(s.bytesFetched()).isEqualTo(8);
  }

  @Test
  void aTamperedObjectInTheBucketIsRefusedNamingIt() throws Exception {
    Path app = image("t", "x.bin");
    LazyImages.push(app, "t", spec, env, Progress.NONE);
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    assertThat(
            LazyImages.pullLazy(home, Tag.of("t"), URI.create(spec), "", "t", Progress.NONE).ok())
        .isTrue();
    String id;
    try (Image img = Image.open(app, AccessMode.INDEXED)) {
      id = img.require("readme.txt").id().name();
    }
    s3.bucket("prod/").put("objects/" + id, "read you\n".getBytes(StandardCharsets.UTF_8));
    try (Image img = Image.open(new ImageStore(home).path(Tag.of("t")), AccessMode.INDEXED)) {
      assertThatThrownBy(() -> img.read(img.require("readme.txt"))).hasMessageContaining(id);
    }
    assertThatThrownBy(
            () ->
                LazyImages.pull(
                    home, Tag.of("none"), URI.create(spec), "", "nothere", Progress.NONE))
        .hasMessageContaining("no image 'nothere' in the bucket");
  }

  @Test
  void anOversizedObjectInTheBucketFailsBoundedAndNothingIsCached() throws Exception {
    Path app = image("big", "x.bin");
    LazyImages.push(app, "big", spec, env, Progress.NONE);
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    assertThat(
            LazyImages.pullLazy(home, Tag.of("big"), URI.create(spec), "", "big", Progress.NONE)
                .ok())
        .isTrue();
    String id;
    try (Image img = Image.open(app, AccessMode.INDEXED)) {
      id = img.require("readme.txt").id().name();
    }
    // 8 MiB under an 8-byte blob's key: read only to its 9th byte, never whole.
    s3.bucket("prod/").put("objects/" + id, new byte[8 << 20]);
    try (Image img = Image.open(new ImageStore(home).path(Tag.of("big")), AccessMode.INDEXED)) {
      assertThatThrownBy(() -> img.read(img.require("readme.txt")))
          .hasStackTraceContaining("object " + id + ": the bucket sent more than 8 bytes");
    }
    assertThat(LazyImages.cacheStats(home).objects()).isZero();
  }
}
