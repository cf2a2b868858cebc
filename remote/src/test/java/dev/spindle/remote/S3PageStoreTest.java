package dev.spindle.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.memory.PagedMemory;
import dev.spindle.testing.S3ProxyServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fallback store on a real S3 API (S3Proxy in-process), spoken to with the AWS SDK. */
class S3PageStoreTest {
  S3ProxyServer s3;

  @BeforeEach
  void start() throws Exception {
    s3 = S3ProxyServer.start("pages");
  }

  @AfterEach
  void stop() throws Exception {
    s3.close();
  }

  @Test
  void childFinishesFromTheBucketWhenTheParentIsGone() throws Exception {
    S3PageStore store = new S3PageStore(s3.bucket("node-a/"));
    PagedMemory parent = Patterns.filled(8, 11);
    Descriptor d;
    try (PageServer server =
        PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      RemotePages.Prepared p =
          RemotePages.prepare(
              parent.snapshot(),
              new byte[0],
              server,
              "127.0.0.1",
              Duration.ofMinutes(1),
              store,
              Executors.newSingleThreadExecutor());
      assertThat(p.upload().get()).isEqualTo(p.descriptor().nonZeroPages());
      d = p.descriptor();
    }
    assertThat(store.contains(parent.snapshot().sha256(0))).isTrue();
    assertThat(store.getHashes(d.id())).as("the descriptor's hash list").isPresent();
    RemotePages.Resumed r = RemotePages.resume(d, store, 4, Duration.ofSeconds(2));
    PagedMemory child = Patterns.child(r.table());
    for (int a = 0; a < 8 * Patterns.PAGE; a += 4) {
      assertThat(child.readInt(a)).isEqualTo(Patterns.expected(a, 11));
    }
    assertThat(r.source().stats().fallbackPages()).isEqualTo(d.nonZeroPages());
    assertThat(r.source().stats().pagesFetched()).isZero();
  }

  @Test
  void aNodeNamesItsStoreByOneString() throws Exception {
    String spec = "s3://pages/node-b?endpoint=" + s3.endpoint() + "&region=us-east-1";
    Map<String, String> env =
        Map.of("AWS_ACCESS_KEY_ID", "access", "AWS_SECRET_ACCESS_KEY", "secret-key");
    PageStore store = PageStores.open(spec, env);
    byte[] page = new byte[Patterns.PAGE];
    page[7] = 9;
    byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(page);
    store.put(hash, page);
    assertThat(new S3PageStore(s3.bucket("node-b/")).get(hash)).hasValue(page);

    assertThat(PageStores.open("/tmp/somewhere", env)).isInstanceOf(DirectoryPageStore.class);
    assertThatThrownBy(() -> PageStores.open("s3://pages", env))
        .hasMessageContaining("endpoint=URL");
    assertThatThrownBy(() -> PageStores.open(spec, Map.of()))
        .hasMessageContaining("AWS_ACCESS_KEY_ID");
    assertThatThrownBy(() -> PageStores.open(spec + "&secret=x", env))
        .hasMessageContaining("unknown parameter 'secret'");
  }
}
