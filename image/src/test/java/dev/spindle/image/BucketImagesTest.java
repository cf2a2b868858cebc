package dev.spindle.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.store.Bucket;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;

/**
 * Images pushed to a real S3 API (S3Proxy in-process, the AWS SDK as client) and pulled from it,
 * whole and lazily: blobs are shared between pushes, a lazy read fetches only what it reads, and a
 * tampered object in the bucket is refused, naming it.
 */
class BucketImagesTest {
  @TempDir Path tmp;
  S3Proxy proxy;
  BlobStoreContext context;
  S3Client s3;
  String spec;
  final Map<String, String> env = Map.of("AWS_ACCESS_KEY_ID", "access", "AWS_SECRET_ACCESS_KEY", "secret-key");

  @BeforeEach
  void start() throws Exception {
    context = ContextBuilder.newBuilder("transient").credentials("id", "secret")
        .overrides(new Properties()).build(BlobStoreContext.class);
    proxy = S3Proxy.builder().blobStore(context.getBlobStore())
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "access", "secret-key")
        .endpoint(URI.create("http://127.0.0.1:0")).build();
    proxy.start();
    while (!proxy.getState().equals("STARTED")) {
      Thread.sleep(10);
    }
    String endpoint = "http://127.0.0.1:" + proxy.getPort();
    s3 = Bucket.client(URI.create(endpoint), "us-east-1", "access", "secret-key");
    s3.createBucket(CreateBucketRequest.builder().bucket("images").build());
    spec = "s3://images/prod?endpoint=" + endpoint;
    // A lazy image reads its bucket later, with the keys of the process reading it.
    System.setProperty("aws.accessKeyId", "access");
    System.setProperty("aws.secretAccessKey", "secret-key");
  }

  @AfterEach
  void stop() throws Exception {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    s3.close();
    proxy.stop();
    context.close();
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
    VerifyReport whole = LazyImages.pull(home, Tag.of("whole"), URI.create(spec), "", "app", Progress.NONE);
    assertThat(whole.ok()).as("%s", whole.problems()).isTrue();
    assertThat(Files.mismatch(new ImageStore(home).path(Tag.of("whole")), app)).isEqualTo(-1);

    VerifyReport lazy = LazyImages.pullLazy(home, Tag.of("lazy"), URI.create(spec), "", "app2", Progress.NONE);
    assertThat(lazy.ok()).as("%s", lazy.problems()).isTrue();
    try (Image img = Image.open(new ImageStore(home).path(Tag.of("lazy")), AccessMode.INDEXED)) {
      assertThat(new String(img.read(img.require("readme.txt")), StandardCharsets.UTF_8)).isEqualTo("read me\n");
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
    assertThat(LazyImages.pullLazy(home, Tag.of("t"), URI.create(spec), "", "t", Progress.NONE).ok()).isTrue();
    String id;
    try (Image img = Image.open(app, AccessMode.INDEXED)) {
      id = img.require("readme.txt").id().name();
    }
    new Bucket(s3, "images", "prod/").put("objects/" + id, "read you\n".getBytes(StandardCharsets.UTF_8));
    try (Image img = Image.open(new ImageStore(home).path(Tag.of("t")), AccessMode.INDEXED)) {
      assertThatThrownBy(() -> img.read(img.require("readme.txt"))).hasMessageContaining(id);
    }
    assertThatThrownBy(() -> LazyImages.pull(home, Tag.of("none"), URI.create(spec), "", "nothere", Progress.NONE))
        .hasMessageContaining("no image 'nothere' in the bucket");
  }
}
