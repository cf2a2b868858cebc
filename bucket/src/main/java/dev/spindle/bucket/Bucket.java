package dev.spindle.bucket;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * A prefix in an S3-compatible bucket, named by one string: {@code
 * s3://BUCKET[/PREFIX]?endpoint=URL[&region=R]}, its keys from {@code AWS_ACCESS_KEY_ID} and {@code
 * AWS_SECRET_ACCESS_KEY} (else the system properties {@code aws.accessKeyId} and {@code
 * aws.secretAccessKey}, as the AWS SDK reads them), never from the string, which ends up in process
 * lists, markers and logs. Keys given to its methods are relative to the prefix; errors name {@code
 * s3://bucket/key}.
 */
public final class Bucket {
  private final S3Client s3;
  private final String name;
  private final String prefix;
  private final String spec;

  public Bucket(S3Client s3, String name, String prefix) {
    this.s3 = s3;
    this.name = name;
    this.prefix = prefix;
    this.spec = "s3://" + name + "/" + prefix;
  }

  /** Whether {@code spec} names a bucket ({@code s3://…}) rather than, say, a directory. */
  public static boolean isBucket(String spec) {
    return spec.startsWith("s3://");
  }

  /**
   * Opens the bucket {@code spec} names; {@code what} says what it is for in errors ("page store",
   * "image source").
   *
   * @throws IllegalArgumentException naming what is wrong with the string or the environment
   */
  public static Bucket open(String spec, Map<String, String> env, String what) {
    URI u;
    try {
      u = new URI(spec);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(what + " '" + spec + "' is not a URI: " + e.getMessage());
    }
    String bucket = u.getHost();
    if (!"s3".equals(u.getScheme()) || bucket == null || bucket.isEmpty()) {
      throw new IllegalArgumentException(
          what + " '" + spec + "' names no bucket: s3://BUCKET[/PREFIX]?endpoint=URL");
    }
    Map<String, String> q = query(spec, u.getRawQuery(), what);
    String endpoint = q.get("endpoint");
    if (endpoint == null) {
      throw new IllegalArgumentException(
          what + " '" + spec + "' needs ?endpoint=URL (the S3 API to talk to)");
    }
    // The AWS SDK's own names: the environment, else the JVM's system properties.
    String access = env.getOrDefault("AWS_ACCESS_KEY_ID", System.getProperty("aws.accessKeyId"));
    String secret =
        env.getOrDefault("AWS_SECRET_ACCESS_KEY", System.getProperty("aws.secretAccessKey"));
    if (access == null || secret == null) {
      throw new IllegalArgumentException(
          what + " '" + spec + "' needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
    String path = u.getPath() == null ? "" : u.getPath().replaceFirst("^/+", "");
    String prefix = path.isEmpty() || path.endsWith("/") ? path : path + "/";
    return new Bucket(
        client(URI.create(endpoint), q.getOrDefault("region", "us-east-1"), access, secret),
        bucket,
        prefix);
  }

  private static Map<String, String> query(String spec, String raw, String what) {
    Map<String, String> q = new HashMap<>();
    if (raw == null) {
      return q;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      String k = eq < 0 ? kv : kv.substring(0, eq);
      if (!k.equals("endpoint") && !k.equals("region")) {
        throw new IllegalArgumentException(
            what + " '" + spec + "': unknown parameter '" + k + "' (known: endpoint, region)");
      }
      q.put(k, URLDecoder.decode(eq < 0 ? "" : kv.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return q;
  }

  /**
   * A client for an S3-compatible endpoint (MinIO, S3Proxy, Ceph): path-style addressing, and
   * checksums only where S3 requires them, since many such servers reject the SDK's default
   * trailing checksums (aws-chunked payloads) — S3Proxy 2.6 answers them with a 400.
   */
  public static S3Client client(URI endpoint, String region, String accessKey, String secretKey) {
    return S3Client.builder()
        .endpointOverride(endpoint)
        .region(Region.of(region))
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
        .forcePathStyle(true)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  /** {@code s3://bucket/prefix/key}, for messages. */
  public String where(String key) {
    return spec + key;
  }

  public Optional<byte[]> get(String key) throws IOException {
    try {
      return Optional.of(
          s3.getObjectAsBytes(GetObjectRequest.builder().bucket(name).key(prefix + key).build())
              .asByteArray());
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (S3Exception e) {
      throw new IOException(where(key) + ": " + e.getMessage(), e);
    }
  }

  /** The object as a stream (the caller closes it); empty when there is none. */
  public Optional<InputStream> stream(String key) throws IOException {
    try {
      return Optional.of(
          s3.getObject(GetObjectRequest.builder().bucket(name).key(prefix + key).build()));
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (S3Exception e) {
      throw new IOException(where(key) + ": " + e.getMessage(), e);
    }
  }

  public void put(String key, byte[] bytes) throws IOException {
    try {
      s3.putObject(
          PutObjectRequest.builder().bucket(name).key(prefix + key).build(),
          RequestBody.fromBytes(bytes));
    } catch (S3Exception e) {
      throw new IOException(where(key) + ": " + e.getMessage(), e);
    }
  }

  public void put(String key, Path file) throws IOException {
    try {
      s3.putObject(
          PutObjectRequest.builder().bucket(name).key(prefix + key).build(),
          RequestBody.fromFile(file));
    } catch (S3Exception e) {
      throw new IOException(where(key) + ": " + e.getMessage(), e);
    }
  }

  public boolean contains(String key) throws IOException {
    try {
      s3.headObject(HeadObjectRequest.builder().bucket(name).key(prefix + key).build());
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return false;
      }
      throw new IOException(where(key) + ": " + e.getMessage(), e);
    }
  }
}
