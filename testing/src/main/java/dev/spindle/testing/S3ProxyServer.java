package dev.spindle.testing;

import dev.spindle.bucket.Bucket;
import java.net.URI;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;

/**
 * A real S3 API in the test's JVM (S3Proxy over an in-memory blob store) with one bucket, and an
 * AWS SDK client configured as {@link Bucket} configures its own. Keys: {@link #ACCESS}, {@link
 * #SECRET}.
 */
public final class S3ProxyServer implements AutoCloseable {
  public static final String ACCESS = "access";
  public static final String SECRET = "secret-key";

  private final BlobStoreContext context;
  private final S3Proxy proxy;
  private final S3Client client;
  private final String bucket;

  private S3ProxyServer(BlobStoreContext context, S3Proxy proxy, S3Client client, String bucket) {
    this.context = context;
    this.proxy = proxy;
    this.client = client;
    this.bucket = bucket;
  }

  /** Starts a server on a free loopback port holding the empty bucket {@code bucket}. */
  public static S3ProxyServer start(String bucket) throws Exception {
    BlobStoreContext context =
        ContextBuilder.newBuilder("transient")
            .credentials("id", "secret")
            .overrides(new Properties())
            .build(BlobStoreContext.class);
    S3Proxy proxy =
        S3Proxy.builder()
            .blobStore(context.getBlobStore())
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET)
            .endpoint(URI.create("http://127.0.0.1:0"))
            .build();
    proxy.start();
    while (!proxy.getState().equals("STARTED")) {
      Thread.sleep(10);
    }
    S3Client client =
        Bucket.client(
            URI.create("http://127.0.0.1:" + proxy.getPort()), "us-east-1", ACCESS, SECRET);
    client.createBucket(CreateBucketRequest.builder().bucket(bucket).build());
    return new S3ProxyServer(context, proxy, client, bucket);
  }

  public String endpoint() {
    return "http://127.0.0.1:" + proxy.getPort();
  }

  public S3Client client() {
    return client;
  }

  /** {@code prefix} in the bucket, through this server's client. */
  public Bucket bucket(String prefix) {
    return new Bucket(client, bucket, prefix);
  }

  @Override
  public void close() throws Exception {
    client.close();
    proxy.stop();
    context.close();
  }
}
