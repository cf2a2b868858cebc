package dev.spindle.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemotePagesTest {
  private static final int PAGE = Patterns.PAGE;
  @TempDir Path tmp;
  PageServer server;

  @BeforeEach
  void start() throws Exception {
    server = PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private RemotePages.Prepared prepare(PagedMemory m, PageStore store) {
    return RemotePages.prepare(
        m.snapshot(),
        "{\"k\":1}".getBytes(),
        server,
        "127.0.0.1",
        Duration.ofMinutes(1),
        store,
        Executors.newSingleThreadExecutor());
  }

  private static void checkAll(PagedMemory child, int pages, int seed) {
    for (int a = 0; a < pages * PAGE; a += 4) {
      if (child.readInt(a) != Patterns.expected(a, seed)) {
        throw new AssertionError("wrong word at " + a);
      }
    }
  }

  @Test
  void childSeesEveryByteAndNeverTheParentsLaterWrites() throws Exception {
    PagedMemory parent = Patterns.filled(32, 5);
    RemotePages.Prepared p = prepare(parent, null);
    Descriptor d = DescriptorCodec.decode(DescriptorCodec.encode(p.descriptor()));
    for (int a = 0; a < 32 * PAGE; a += 1024) {
      parent.writeI32(a, -1);
    }
    RemotePages.Resumed r = RemotePages.resume(d, null, 8, Duration.ofSeconds(5));
    PagedMemory child = Patterns.child(r.table());
    checkAll(child, 32, 5);
    assertThat(r.source().stats().pagesFetched()).isEqualTo(d.nonZeroPages());
    child.writeI32(0, 42);
    assertThat(parent.readInt(0)).isEqualTo(-1);
  }

  @Test
  void anInterruptedThreadStillGetsItsPagesAndKeepsItsInterrupt() throws Exception {
    PagedMemory parent = Patterns.filled(40, 6);
    Descriptor d = prepare(parent, null).descriptor();
    RemotePages.Resumed r =
        RemotePages.resume(d, null, RemotePages.READAHEAD, Duration.ofSeconds(5));
    PagedMemory child = Patterns.child(r.table());
    // Waiting on the page service ignores an interrupt, as a blocking socket read does: the guest's
    // thread is not failed over to the store (or stopped) for it, and the interrupt stays set.
    Thread.currentThread().interrupt();
    try {
      checkAll(child, 40, 6);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(r.source().stats().fallbackPages()).isZero();
    assertThat(r.source().stats().pagesFetched()).isEqualTo(d.nonZeroPages());
    r.source().close();
  }

  @Test
  void touchingOnePercentMovesAboutOnePercent() throws Exception {
    PagedMemory parent = Patterns.filled(400, 1);
    Descriptor d = prepare(parent, null).descriptor();
    RemotePages.Resumed r = RemotePages.resume(d, null, 1, Duration.ofSeconds(5));
    PagedMemory child = Patterns.child(r.table());
    int touched = 0;
    for (int page = 0; page < 400; page += 100) {
      for (int k = 0; k < 4; k++) {
        int a = (page + k) * PAGE + 128;
        assertThat(child.readInt(a)).isEqualTo(Patterns.expected(a, 1));
        if (!d.isZero(page + k)) {
          touched++;
        }
      }
    }
    assertThat(r.source().stats().pagesFetched()).isEqualTo(touched);
    // Each page travels with its hash, and the hashes prepare left pending follow as a list
    // (32 bytes a page): about 2% here, for touching 16 pages of 400.
    assertThat(r.source().stats().bytesFetched())
        .isLessThanOrEqualTo((long) touched * PAGE * 102 / 100);
  }

  @Test
  void prefetchCutsFaultsOnASequentialScan() throws Exception {
    PagedMemory parent = Patterns.filled(128, 2);
    Descriptor d = prepare(parent, null).descriptor();
    RemotePages.Resumed one = RemotePages.resume(d, null, 1, Duration.ofSeconds(5));
    checkAll(Patterns.child(one.table()), 128, 2);
    RemotePages.Resumed sixteen = RemotePages.resume(d, null, 16, Duration.ofSeconds(5));
    checkAll(Patterns.child(sixteen.table()), 128, 2);
    assertThat(sixteen.source().stats().faults() * 5)
        .isLessThanOrEqualTo(one.source().stats().faults());
    assertThat(sixteen.source().stats().pagesFetched())
        .isEqualTo(one.source().stats().pagesFetched());
  }

  @Test
  void stolenReleasedOrExpiredCapabilitiesAreRefused() throws Exception {
    PagedMemory parent = Patterns.filled(4, 3);
    Descriptor good = prepare(parent, null).descriptor();
    Descriptor stolen = good.withCapability(Capability.random());
    PagedMemory child =
        Patterns.child(RemotePages.resume(stolen, null, 1, Duration.ofSeconds(5)).table());
    assertThatThrownBy(() -> child.readInt(0))
        .isInstanceOf(RemotePageException.class)
        .hasMessageContaining("page 0")
        .hasMessageContaining("unknown or released capability");

    Capability shortLived = server.export(parent.snapshot(), Duration.ofMillis(1));
    Thread.sleep(20);
    Descriptor expired = good.withCapability(shortLived);
    PagedMemory child2 =
        Patterns.child(RemotePages.resume(expired, null, 1, Duration.ofSeconds(5)).table());
    assertThatThrownBy(() -> child2.readInt(0)).hasMessageContaining("expired");

    assertThat(server.release(good.capability())).isTrue();
    PagedMemory child3 =
        Patterns.child(RemotePages.resume(good, null, 1, Duration.ofSeconds(5)).table());
    assertThatThrownBy(() -> child3.readInt(0)).hasMessageContaining("unknown or released");
  }

  @Test
  void corruptedPageOnTheWireIsCaughtAndTheStoreServesIt() throws Exception {
    PagedMemory parent = Patterns.filled(4, 4);
    DirectoryPageStore store = new DirectoryPageStore(tmp.resolve("store"));
    RemotePages.Prepared p = prepare(parent, store);
    assertThat(p.upload().get()).isEqualTo(p.descriptor().nonZeroPages());
    Descriptor d = p.descriptor();
    try (ServerSocket evil = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread t = Thread.ofVirtual().start(() -> serveFlipped(evil));
      Descriptor viaEvil = d.withAddress("127.0.0.1", evil.getLocalPort());
      RemotePages.Resumed withStore = RemotePages.resume(viaEvil, store, 1, Duration.ofSeconds(5));
      checkAll(Patterns.child(withStore.table()), 4, 4);
      assertThat(withStore.source().stats().corruptPages()).isPositive();
      assertThat(withStore.source().stats().fallbackPages()).isEqualTo(d.nonZeroPages());
      PagedMemory noStore =
          Patterns.child(RemotePages.resume(viaEvil, null, 1, Duration.ofSeconds(5)).table());
      assertThatThrownBy(() -> noStore.readInt(0))
          .isInstanceOf(RemotePageException.class)
          .hasMessageContaining("page 0")
          .hasMessageContaining("wrong hash");
      t.interrupt();
    }
  }

  /**
   * A page service that answers with every page's first byte flipped on the way (the hash sent with
   * it is the true page's) and refuses to list hashes.
   */
  private static void serveFlipped(ServerSocket s) {
    while (!s.isClosed()) {
      try {
        Socket c = s.accept();
        Thread.ofVirtual().start(() -> flipOne(c));
      } catch (java.io.IOException e) {
        return;
      }
    }
  }

  private static void flipOne(Socket conn) {
    {
      try (Socket c = conn) {
        DataInputStream in = new DataInputStream(c.getInputStream());
        DataOutputStream out = new DataOutputStream(c.getOutputStream());
        PageProtocol.Frame f;
        while ((f = PageProtocol.read(in, PageProtocol.MAX_REQUEST)) != null) {
          if (f.type() != PageProtocol.GET_PAGES) {
            PageProtocol.write(
                out, PageProtocol.PAGES, PageProtocol.error(PageProtocol.BAD_REQUEST, "no"));
            continue;
          }
          ByteBuffer req = ByteBuffer.wrap(f.payload());
          req.position(Capability.BYTES);
          int n = req.getShort();
          ByteBuffer resp = ByteBuffer.allocate(3 + n * (4 + 32 + PAGE));
          resp.put((byte) 0).putShort((short) n);
          for (int i = 0; i < n; i++) {
            int index = req.getInt();
            byte[] page = new byte[PAGE];
            for (int a = 0; a < PAGE; a += 4) {
              ByteBuffer.wrap(page)
                  .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                  .putInt(a, Patterns.expected(index * PAGE + a, 4));
            }
            byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(page);
            page[0] ^= 1;
            resp.putInt(index).put(hash).put(page);
          }
          PageProtocol.write(out, PageProtocol.PAGES, resp.array());
        }
      } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
        return;
      }
    }
  }

  @Test
  void parentProcessKilledMidRunChildFinishesFromTheStore() throws Exception {
    int pages = 64;
    Path desc = tmp.resolve("fork.desc");
    Path store = tmp.resolve("store");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process parent =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                PageServerProcess.class.getName(),
                "" + pages,
                "9",
                desc.toString(),
                store.toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("parent.log").toFile())
            .start();
    try {
      for (int i = 0; i < 600 && !Files.exists(desc); i++) {
        Thread.sleep(50);
      }
      assertThat(desc)
          .as(
              Files.exists(tmp.resolve("parent.log"))
                  ? Files.readString(tmp.resolve("parent.log"))
                  : "")
          .exists();
      Descriptor d = DescriptorCodec.decode(Files.readAllBytes(desc));
      RemotePages.Resumed r =
          RemotePages.resume(d, new DirectoryPageStore(store), 4, Duration.ofSeconds(2));
      PagedMemory child = Patterns.child(r.table());
      for (int a = 0; a < pages / 2 * PAGE; a += 4) {
        assertThat(child.readInt(a)).isEqualTo(Patterns.expected(a, 9));
      }
      long fromParent = r.source().stats().pagesFetched();
      assertThat(fromParent).isPositive();
      parent.destroyForcibly(); // kill -9
      parent.waitFor(10, TimeUnit.SECONDS);
      checkAll(child, pages, 9);
      assertThat(r.source().stats().fallbackPages()).isPositive();
    } finally {
      parent.destroyForcibly();
      parent.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void uploadsAreDeduplicatedByHash() throws Exception {
    DirectoryPageStore store = new DirectoryPageStore(tmp.resolve("store"));
    PagedMemory m = Patterns.filled(8, 6);
    RemotePages.Prepared first = prepare(m, store);
    assertThat(first.upload().get()).isEqualTo(first.descriptor().nonZeroPages());
    RemotePages.Prepared second = prepare(m, store);
    assertThat(second.upload().get()).isZero();
    m.writeI32(0, 1);
    assertThat(prepare(m, store).upload().get()).isEqualTo(1);
    assertThat(List.of(PageTable.PAGE_SIZE)).containsExactly(PAGE);
  }

  @Test
  void pendingHashesAreLearntFromTheParentAndASecondPrepareHasNone() throws Exception {
    PagedMemory parent = Patterns.filled(64, 6);
    RemotePages.Prepared first = prepare(parent, null);
    Descriptor d = DescriptorCodec.decode(DescriptorCodec.encode(first.descriptor()));
    // Nothing had hashed these pages: preparing described them without hashing.
    assertThat(d.pendingHashes().cardinality()).isEqualTo(d.nonZeroPages()).isEqualTo(64 - 9);
    RemotePages.Resumed r = RemotePages.resume(d, null, 1, Duration.ofSeconds(5));
    PagedMemory child = Patterns.child(r.table());
    assertThat(child.readInt(PAGE + 8)).isEqualTo(Patterns.expected(PAGE + 8, 6));
    for (int i = 0; i < 200 && r.source().pendingHashes() > 0; i++) {
      Thread.sleep(10);
    }
    assertThat(r.source().pendingHashes()).as("hashes still pending on the child").isZero();
    checkAll(child, 64, 6);

    first.upload().get();
    Descriptor again = prepare(parent, null).descriptor();
    assertThat(again.pendingHashes().isEmpty()).isTrue();
    PageTable t = parent.snapshot();
    for (int i = 0; i < 64; i++) {
      byte[] page = new byte[PAGE];
      t.page(i).get(page);
      byte[] want =
          i % 7 == 3
              ? new byte[32]
              : java.security.MessageDigest.getInstance("SHA-256").digest(page);
      assertThat(again.hash(i)).as("page %d", i).isEqualTo(want);
    }
    assertThat(DescriptorCodec.decode(DescriptorCodec.encode(again)).pageHashes())
        .isEqualTo(again.pageHashes());
  }

  @Test
  void parentGoneWithHashesPendingChildUsesTheStoresListElseStopsNamingThePage() throws Exception {
    DirectoryPageStore store = new DirectoryPageStore(tmp.resolve("store"));
    PagedMemory parent = Patterns.filled(8, 7);
    Descriptor d;
    try (PageServer gone =
        PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      RemotePages.Prepared p =
          RemotePages.prepare(
              parent.snapshot(),
              new byte[0],
              gone,
              "127.0.0.1",
              Duration.ofMinutes(1),
              store,
              Runnable::run);
      assertThat(p.upload().get()).isEqualTo(p.descriptor().nonZeroPages());
      d = p.descriptor();
    }
    assertThat(d.pendingHashes().isEmpty()).isFalse();
    RemotePages.Resumed r = RemotePages.resume(d, store, 1, Duration.ofSeconds(2));
    checkAll(Patterns.child(r.table()), 8, 7);
    assertThat(r.source().stats().fallbackPages()).isEqualTo(d.nonZeroPages());

    try (var files = Files.list(tmp.resolve("store").resolve("hashes"))) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    PagedMemory orphan =
        Patterns.child(RemotePages.resume(d, store, 1, Duration.ofSeconds(2)).table());
    assertThatThrownBy(() -> orphan.readInt(0))
        .isInstanceOf(RemotePageException.class)
        .hasMessageContaining("page 0")
        .hasMessageContaining("pending")
        .hasMessageContaining("no hash list for descriptor " + d.id());
  }
}
