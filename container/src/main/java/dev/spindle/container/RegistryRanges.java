package dev.spindle.container;

import dev.spindle.image.lazy.RemoteRanges;
import java.io.IOException;

/**
 * Byte ranges of a Spindle image a registry holds as a blob, for the lazy images pulled from it
 * ({@link RegistryImages#pullLazy}). The lazy marker names {@code docker://HOST/REPO@BLOB_DIGEST},
 * with {@code ?insecure} for plain HTTP; its secret is the {@code --creds} the pull was given, else
 * Docker's config is asked again now (a login since the pull counts).
 */
public final class RegistryRanges implements RemoteRanges {
  static final String INSECURE = "?insecure";
  private static final int TRIES = 3;
  private final RegistryClient client;
  private final String digest;

  private RegistryRanges(RegistryClient client, String digest) {
    this.client = client;
    this.digest = digest;
  }

  /** The source a lazy marker names for blob {@code digest} of {@code ref}'s repository. */
  static String source(RegistryRef ref, String digest, boolean insecure) {
    return RegistryRef.PREFIX
        + ref.host()
        + "/"
        + ref.repository()
        + "@"
        + digest
        + (insecure ? INSECURE : "");
  }

  /**
   * One range, tried again when the connection breaks (a flaky link costs a retry, not the read);
   * an answer the registry gives (404, 401, Range ignored) is final.
   */
  @Override
  public byte[] read(long offset, int length) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return client.range(digest, offset, length);
      } catch (RegistryClient.StatusException | java.io.InterruptedIOException answered) {
        throw answered;
      } catch (IOException broken) {
        if (attempt >= TRIES
            || broken.getMessage() == null
            || broken.getMessage().contains("ignores Range")
            || broken.getMessage().contains("another range")) {
          throw broken;
        }
      }
    }
  }

  @Override
  public void close() {
    client.close();
  }

  /** Found by {@link java.util.ServiceLoader} (META-INF/services). */
  public static final class Provider implements RemoteRanges.Provider {
    @Override
    public boolean handles(String source) {
      return source.startsWith(RegistryRef.PREFIX);
    }

    @Override
    public RemoteRanges open(String source, String secret) throws IOException {
      boolean insecure = source.endsWith(INSECURE);
      RegistryRef ref =
          RegistryRef.parse(
              insecure ? source.substring(0, source.length() - INSECURE.length()) : source);
      if (ref.digest() == null) {
        throw new IOException(source + ": a lazy image's source names its blob by digest");
      }
      RegistryCredentials creds =
          RegistryCredentials.resolve(
              secret.isEmpty() ? null : secret, RegistryOptions.defaultDockerConfig(), ref.host());
      return new RegistryRanges(new RegistryClient(ref, insecure, creds, "pull"), ref.digest());
    }
  }
}
