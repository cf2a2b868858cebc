package dev.spindle.remote;

import java.io.IOException;
import java.util.HexFormat;
import java.util.Optional;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Pages in an S3-compatible bucket as objects {@code <prefix>pages/<sha256 hex>}, and descriptors'
 * hash lists as {@code <prefix>hashes/<id>}: for clusters.
 */
public final class S3PageStore implements PageStore {
  private final S3Client s3;
  private final String bucket;
  private final String prefix;

  public S3PageStore(S3Client s3, String bucket, String prefix) {
    this.s3 = s3;
    this.bucket = bucket;
    this.prefix = prefix;
  }

  /**
   * A client for an S3-compatible endpoint (MinIO, S3Proxy, Ceph): path-style addressing, and
   * checksums only where S3 requires them, since many such servers reject the SDK's default
   * trailing checksums (aws-chunked payloads) — S3Proxy 2.6 answers them with a 400.
   */
  public static S3Client client(java.net.URI endpoint, String region, String accessKey, String secretKey) {
    return S3Client.builder()
        .endpointOverride(endpoint)
        .region(software.amazon.awssdk.regions.Region.of(region))
        .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
            software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(accessKey, secretKey)))
        .forcePathStyle(true)
        .requestChecksumCalculation(
            software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(
            software.amazon.awssdk.core.checksums.ResponseChecksumValidation.WHEN_REQUIRED)
        .serviceConfiguration(software.amazon.awssdk.services.s3.S3Configuration.builder()
            .chunkedEncodingEnabled(false).build())
        .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create())
        .build();
  }

  private String key(byte[] hash) {
    return prefix + "pages/" + HexFormat.of().formatHex(hash);
  }

  @Override
  public Optional<byte[]> get(byte[] hash) throws IOException {
    return getObject(key(hash));
  }

  @Override
  public void put(byte[] hash, byte[] page) throws IOException {
    putObject(key(hash), page);
  }

  @Override
  public void putHashes(String descriptorId, byte[] hashes) throws IOException {
    putObject(prefix + "hashes/" + descriptorId, hashes);
  }

  @Override
  public Optional<byte[]> getHashes(String descriptorId) throws IOException {
    return getObject(prefix + "hashes/" + descriptorId);
  }

  private Optional<byte[]> getObject(String key) throws IOException {
    try {
      return Optional.of(s3.getObjectAsBytes(
          GetObjectRequest.builder().bucket(bucket).key(key).build()).asByteArray());
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (S3Exception e) {
      throw new IOException("s3://" + bucket + "/" + key + ": " + e.getMessage(), e);
    }
  }

  private void putObject(String key, byte[] bytes) throws IOException {
    try {
      s3.putObject(PutObjectRequest.builder().bucket(bucket).key(key).build(), RequestBody.fromBytes(bytes));
    } catch (S3Exception e) {
      throw new IOException("s3://" + bucket + "/" + key + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean contains(byte[] hash) throws IOException {
    try {
      s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(key(hash)).build());
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return false;
      }
      throw new IOException("s3://" + bucket + "/" + key(hash) + ": " + e.getMessage(), e);
    }
  }
}
