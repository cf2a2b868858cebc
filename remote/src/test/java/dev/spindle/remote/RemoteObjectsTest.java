package dev.spindle.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child's files as Git objects over real sockets: from the parent's page service in chunks, each
 * checked against its Git id and a size bound before it is handed on; from the store when the
 * parent's is damaged; refused naming the object otherwise.
 */
class RemoteObjectsTest {
  @TempDir Path tmp;
  PageServer server;

  /** Objects the parent serves, by id: type and content as {@link #tamper} leaves them. */
  private final Map<String, byte[]> served = new HashMap<>();

  private final Map<String, Integer> types = new HashMap<>();

  @BeforeEach
  void start() throws Exception {
    server = PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private byte[] add(int type, byte[] content) {
    byte[] id = RemoteObjects.gitId(type, content);
    served.put(HexFormat.of().formatHex(id), content);
    types.put(HexFormat.of().formatHex(id), type);
    return id;
  }

  private void tamper(byte[] id) {
    served.get(HexFormat.of().formatHex(id))[0] ^= 1;
  }

  private final GitObjects objects =
      id -> {
        String hex = HexFormat.of().formatHex(id);
        byte[] b = served.get(hex);
        return b == null
            ? null
            : new GitObjects.Opened(types.get(hex), b.length, new ByteArrayInputStream(b));
      };

  private Descriptor prepare() {
    return RemotePages.prepare(
            Patterns.filled(1, 1).snapshot(),
            "{}".getBytes(),
            null,
            objects,
            server,
            "127.0.0.1",
            Duration.ofMinutes(1),
            null,
            Executors.newSingleThreadExecutor())
        .descriptor();
  }

  private static RemoteObjects child(Descriptor d, PageStore store) {
    return RemotePages.resume(d, store, 1, Duration.ofSeconds(5)).source().objects();
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (seed + i * 7);
    }
    return b;
  }

  private static String hex(byte[] id) {
    return HexFormat.of().formatHex(id);
  }

  @Test
  void objectsComeInChunksCheckedAgainstTheirIdsAndOnlyThoseOfTheExport() throws Exception {
    byte[] small = add(GitObjects.BLOB, "hello".getBytes());
    // 5 MiB: three answers of at most 2 MiB each.
    byte[] bigContent = bytes(5 << 20, 3);
    byte[] big = add(GitObjects.BLOB, bigContent);
    byte[] tree = add(GitObjects.TREE, new byte[0]);
    RemoteObjects c = child(prepare(), null);

    assertThat(c.sizes(List.of(small, big), 1L << 30))
        .containsEntry(hex(small), 5L)
        .containsEntry(hex(big), (long) bigContent.length);
    assertThat(server.objectBytesServed()).as("headers only").isZero();
    Map<String, RemoteObjects.GitObject> got = c.fetch(List.of(small, big, tree), 1L << 30);
    assertThat(got.get(hex(small)).content()).isEqualTo("hello".getBytes());
    assertThat(got.get(hex(big)).content()).isEqualTo(bigContent);
    assertThat(got.get(hex(tree)).type()).isEqualTo(GitObjects.TREE);
    long total = 5L + bigContent.length;
    assertThat(c.bytesFetched()).isEqualTo(total);
    assertThat(server.objectBytesServed()).isEqualTo(total);
    assertThat(c.fallbackObjects()).isZero();

    // An object of the node that the export does not hold is not served, whoever asks.
    byte[] elsewhere = RemoteObjects.gitId(GitObjects.BLOB, "secret".getBytes());
    long refused = server.requestsRefused();
    assertThatThrownBy(() -> c.fetch(List.of(elsewhere), 1L << 30))
        .isInstanceOf(RemotePageException.class)
        .hasMessageContaining("object " + hex(elsewhere))
        .hasMessageContaining("not in the files")
        .hasMessageContaining("no fallback store");
    assertThat(server.requestsRefused()).isGreaterThan(refused);
  }

  @Test
  void aTamperedObjectIsRefusedNamingItsIdAndTakenIntactFromTheStore() throws Exception {
    byte[] content = bytes(100_000, 9);
    byte[] id = add(GitObjects.BLOB, content.clone());
    tamper(id);
    Descriptor d = prepare();
    assertThatThrownBy(() -> child(d, null).fetch(List.of(id), 1L << 30))
        .isInstanceOf(RemotePageException.class)
        .hasMessageContaining("object " + hex(id))
        .hasMessageContaining("sent an object that hashes to");

    PageStore store = new DirectoryPageStore(tmp.resolve("store"));
    byte[] damaged = RemoteObjects.raw(GitObjects.BLOB, content);
    damaged[damaged.length - 1] ^= 1;
    store.putObject(hex(id), damaged);
    assertThatThrownBy(() -> child(d, store).fetch(List.of(id), 1L << 30))
        .hasMessageContaining("object " + hex(id))
        .hasMessageContaining("the store's copy hashes to");

    PageStore good = new DirectoryPageStore(tmp.resolve("good"));
    good.putObject(hex(id), RemoteObjects.raw(GitObjects.BLOB, content));
    RemoteObjects c = child(d, good);
    assertThat(c.fetch(List.of(id), 1L << 30).get(hex(id)).content()).isEqualTo(content);
    assertThat(c.fallbackObjects()).isOne();
  }

  @Test
  void anObjectLargerThanTheBoundIsRefusedBeforeItsBytesAreRead() throws Exception {
    byte[] id = add(GitObjects.BLOB, bytes(3 << 20, 1));
    RemoteObjects c = child(prepare(), null);
    assertThatThrownBy(() -> c.fetch(List.of(id), 1 << 20))
        .hasMessageContaining("object " + hex(id))
        .hasMessageContaining("more than " + (1 << 20));
    assertThat(c.bytesFetched()).isZero();
  }

  @Test
  void aMaliciousParentsHugeAnswersAreCutAtTheBound() throws Exception {
    byte[] id = add(GitObjects.BLOB, "x".getBytes());
    Descriptor d = prepare();
    // One liar claims a terabyte object; another sends a frame past the protocol's bound.
    for (boolean hugeFrame : new boolean[] {false, true}) {
      try (ServerSocket liar = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
        Thread t = Thread.ofVirtual().start(() -> lie(liar, hugeFrame));
        RemoteObjects c = child(d.withAddress("127.0.0.1", liar.getLocalPort()), null);
        assertThatThrownBy(() -> c.fetch(List.of(id), 1L << 30))
            .hasMessageContaining("object " + hex(id))
            .hasMessageContaining(hugeFrame ? "out of bounds" : "more than " + (1L << 30));
        assertThat(c.bytesFetched()).isZero();
        liar.close();
        t.join();
      }
    }
  }

  /**
   * Answers every GET_OBJECTS on every connection with an object header claiming 1 TiB, or a frame
   * length of 2 GiB; anything else with an error.
   */
  private static void lie(ServerSocket s, boolean hugeFrame) {
    while (true) {
      Socket conn;
      try {
        conn = s.accept();
      } catch (java.io.IOException e) {
        return; // closed by the test
      }
      Thread.ofVirtual().start(() -> lieOn(conn, hugeFrame));
    }
  }

  private static void lieOn(Socket c, boolean hugeFrame) {
    try (Socket conn = c) {
      DataInputStream in = new DataInputStream(conn.getInputStream());
      DataOutputStream out = new DataOutputStream(conn.getOutputStream());
      PageProtocol.Frame f;
      while ((f = PageProtocol.read(in, PageProtocol.MAX_REQUEST)) != null) {
        if (f.type() != PageProtocol.GET_OBJECTS) {
          PageProtocol.write(
              out, PageProtocol.PAGES, PageProtocol.error(PageProtocol.BAD_REQUEST, "no"));
          continue;
        }
        if (hugeFrame) {
          out.writeInt(Integer.MAX_VALUE);
          out.flush();
          continue;
        }
        ByteBuffer req = ByteBuffer.wrap(f.payload());
        req.position(Capability.BYTES + 2);
        byte[] id = new byte[PageProtocol.GIT_ID];
        req.get(id);
        ByteBuffer a = ByteBuffer.allocate(3 + PageProtocol.OBJECT_HEADER + 4);
        a.put((byte) PageProtocol.OK).putShort((short) 1);
        a.put(id).put((byte) GitObjects.BLOB).putLong(1L << 40).putInt(4).putInt(0);
        PageProtocol.write(out, PageProtocol.PAGES, a.array());
      }
    } catch (java.io.IOException e) {
      // the child hung up
    }
  }
}
