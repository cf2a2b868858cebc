package dev.spindle.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import dev.spindle.store.Hashes;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Pipelined page requests and the adaptive readahead: what they fetch (exactly the pages asked,
 * never past the table, about the pages touched), and what they do with a peer that breaks the
 * protocol in the middle of a pipeline (refused, naming the pages; the store serves them).
 */
class PipelinedFetchTest {
  private static final int PAGE = Patterns.PAGE;
  @TempDir Path tmp;
  PageServer server;
  ExecutorService background = Executors.newSingleThreadExecutor();

  @BeforeEach
  void start() throws Exception {
    server = PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    background.shutdownNow();
  }

  private RemotePages.Prepared prepare(PagedMemory m, PageStore store) {
    return RemotePages.prepare(
        m.snapshot(), new byte[0], server, "127.0.0.1", Duration.ofMinutes(1), store, background);
  }

  private PageClient client(int port) {
    return new PageClient(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000, PAGE);
  }

  private static void checkAll(PagedMemory child, int pages, int seed) {
    for (int a = 0; a < pages * PAGE; a += 4) {
      if (child.readInt(a) != Patterns.expected(a, seed)) {
        throw new AssertionError("wrong word at " + a);
      }
    }
  }

  @Test
  void pipelinedRequestsAnswerExactlyThePagesAskedAsOneAtATimeDoes() throws Exception {
    int pages = 200;
    PagedMemory parent = Patterns.filled(pages, 7);
    PageTable table = parent.snapshot();
    Descriptor d = prepare(parent, null).descriptor();
    Random r = new Random(17);
    // More requests than may be in flight, so that sending also reads answers for later waiters.
    List<int[]> asked = new ArrayList<>();
    for (int q = 0; q < 3 * PageClient.MAX_IN_FLIGHT; q++) {
      int[] indices = new int[1 + r.nextInt(PageProtocol.MAX_BATCH)];
      for (int k = 0; k < indices.length; k++) {
        indices[k] = r.nextInt(pages);
      }
      asked.add(indices);
    }
    try (PageClient pipelined = client(d.port());
        PageClient serial = client(d.port())) {
      List<PageClient.Pending> sent = new ArrayList<>();
      for (int[] indices : asked) {
        sent.add(pipelined.sendFetch(d.capability(), indices));
      }
      List<Integer> order = new ArrayList<>();
      for (int q = 0; q < asked.size(); q++) {
        order.add(q);
      }
      Collections.shuffle(order, r); // answers taken in any order reach their own request
      for (int q : order) {
        int[] indices = asked.get(q);
        PageClient.Fetched got = pipelined.pages(sent.get(q), indices);
        for (int k = 0; k < indices.length; k++) {
          PageClient.Fetched one = serial.fetch(d.capability(), new int[] {indices[k]});
          assertThat(got.pages()[k]).isEqualTo(one.pages()[0]);
          assertThat(got.hashes()[k]).isEqualTo(one.hashes()[0]);
          byte[] expected = new byte[PAGE];
          table.page(indices[k]).get(expected);
          assertThat(got.pages()[k]).as("page %d", indices[k]).isEqualTo(expected);
          // (a zero page's hash travels as 32 zero bytes)
          assertThat(got.hashes()[k])
              .isEqualTo(d.isZero(indices[k]) ? new byte[32] : Hashes.sha256(expected));
        }
      }
    }
  }

  @Test
  void answersOutOfOrderAreRefusedNamingThePages() throws Exception {
    PagedMemory parent = Patterns.filled(20, 8);
    Descriptor d = prepare(parent, null).descriptor();
    try (Proxy proxy = new Proxy(server.address(), Tamper.SWAP, 2);
        PageClient c = client(proxy.port())) {
      PageClient.Pending first = c.sendFetch(d.capability(), new int[] {1});
      PageClient.Pending second = c.sendFetch(d.capability(), new int[] {4, 5});
      PageClient.Pending third = c.sendFetch(d.capability(), new int[] {8});
      assertThat(c.pages(first, new int[] {1}).pages()).hasNumberOfRows(1);
      // The proxy answers the third request first: it carries page 8 where 4 and 5 were asked.
      assertThatThrownBy(() -> c.pages(second, new int[] {4, 5}))
          .isInstanceOf(PageProtocolException.class)
          .hasMessageContaining("1 pages for 2 asked");
      assertThatThrownBy(() -> c.pages(third, new int[] {8})).isInstanceOf(IOException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Tamper.class,
      names = {"TRUNCATE", "TOO_LARGE"})
  void aBrokenFrameMidPipelineFailsItsRequestAndTheOnesAfterIt(Tamper tamper) throws Exception {
    PagedMemory parent = Patterns.filled(20, 9);
    Descriptor d = prepare(parent, null).descriptor();
    try (Proxy proxy = new Proxy(server.address(), tamper, 2);
        PageClient c = client(proxy.port())) {
      List<PageClient.Pending> sent = new ArrayList<>();
      for (int q = 0; q < 4; q++) {
        sent.add(c.sendFetch(d.capability(), new int[] {q, q + 10}));
      }
      assertThat(c.pages(sent.get(0), new int[] {0, 10}).pages()).hasNumberOfRows(2);
      assertThatThrownBy(() -> c.pages(sent.get(1), new int[] {1, 11}))
          .isInstanceOf(PageProtocolException.class)
          .hasMessageContaining(tamper == Tamper.TRUNCATE ? "truncated at byte" : "out of bounds");
      for (int q = 2; q < 4; q++) {
        int[] indices = {q, q + 10};
        PageClient.Pending p = sent.get(q);
        assertThatThrownBy(() -> c.pages(p, indices)).isInstanceOf(IOException.class);
      }
      // The next request opens a new connection, which the proxy answers faithfully.
      assertThat(c.fetch(d.capability(), new int[] {3}).pages()).hasNumberOfRows(1);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Tamper.class,
      names = {"WRONG_PAGE", "TRUNCATE", "TOO_LARGE", "SWAP"})
  void aPeerBreakingThePipelineIsRefusedAndTheStoreServesThePages(Tamper tamper) throws Exception {
    int pages = 300;
    PagedMemory parent = Patterns.filled(pages, 10);
    DirectoryPageStore store = new DirectoryPageStore(tmp.resolve("store"));
    RemotePages.Prepared p = prepare(parent, store);
    p.upload().get();
    // The fourth answer is a readahead batch, sent while earlier ones were still in flight.
    try (Proxy proxy = new Proxy(server.address(), tamper, 4)) {
      Descriptor d = p.descriptor().withAddress("127.0.0.1", proxy.port());
      RemotePages.Resumed r =
          RemotePages.resume(d, store, RemotePages.READAHEAD, Duration.ofSeconds(5));
      checkAll(Patterns.child(r.table()), pages, 10);
      assertThat(proxy.tampered()).isTrue();
      assertThat(r.source().stats().fallbackPages()).isPositive();
      if (tamper == Tamper.WRONG_PAGE) {
        assertThat(r.source().stats().corruptPages()).isEqualTo(1);
      }
      r.source().close();
    }
    try (Proxy proxy = new Proxy(server.address(), tamper, 4)) {
      Descriptor d = p.descriptor().withAddress("127.0.0.1", proxy.port());
      RemotePages.Resumed r =
          RemotePages.resume(d, null, RemotePages.READAHEAD, Duration.ofSeconds(5));
      PagedMemory child = Patterns.child(r.table());
      String why =
          switch (tamper) {
            case WRONG_PAGE -> "wrong hash";
            case TRUNCATE -> "truncated at byte";
            case TOO_LARGE -> "out of bounds";
            case SWAP -> "answering pages";
          };
      assertThatThrownBy(() -> checkAll(child, pages, 10))
          .isInstanceOf(RemotePageException.class)
          .hasMessageMatching("page \\d+: .*")
          .hasMessageContaining(why)
          .hasMessageContaining("no fallback store");
      r.source().close();
    }
  }

  @Test
  void readaheadNeverAsksPastTheTableAndMovesOnlyWhatASequentialScanTouches() throws Exception {
    int pages = 150; // not a multiple of a batch
    PagedMemory parent = Patterns.filled(pages, 11);
    Descriptor d = prepare(parent, null).descriptor();
    RemotePages.Resumed r =
        RemotePages.resume(d, null, RemotePages.READAHEAD, Duration.ofSeconds(5));
    checkAll(Patterns.child(r.table()), pages, 11);
    assertThat(r.source().stats().pagesFetched()).isEqualTo(d.nonZeroPages());
    assertThat(server.pagesServed()).isEqualTo(d.nonZeroPages());
    assertThat(server.requestsRefused()).isZero();
    assertThat(r.source().stats().faults()).isLessThan(d.nonZeroPages() / 5);
    r.source().close();

    // A scan that starts near the end: the window may reach past the table, the requests do not.
    RemotePages.Resumed tail =
        RemotePages.resume(d, null, RemotePages.READAHEAD, Duration.ofSeconds(5));
    PagedMemory child = Patterns.child(tail.table());
    long before = server.pagesServed();
    int touched = 0;
    for (int page = pages - 20; page < pages; page++) {
      assertThat(child.readInt(page * PAGE + 8)).isEqualTo(Patterns.expected(page * PAGE + 8, 11));
      touched += d.isZero(page) ? 0 : 1;
    }
    assertThat(server.pagesServed() - before).isEqualTo(touched);
    assertThat(server.requestsRefused()).isZero();
    tail.source().close();
  }

  @Test
  void randomTouchesShrinkTheReadaheadToThePagesTouched() throws Exception {
    int pages = 1000;
    PagedMemory parent = Patterns.filled(pages, 12);
    Descriptor d = prepare(parent, null).descriptor();
    RemotePages.Resumed r =
        RemotePages.resume(d, null, RemotePages.READAHEAD, Duration.ofSeconds(5));
    PagedMemory child = Patterns.child(r.table());
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < pages; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(3));
    int touched = 0;
    // A sequential run first (the window grows), then random touches (it must shrink again).
    for (int page = 0; page < 40; page++) {
      child.readInt(page * PAGE);
      touched += d.isZero(page) ? 0 : 1;
    }
    long afterRun = r.source().stats().pagesFetched();
    int random = 0;
    for (int page : order.subList(0, 200)) {
      if (page >= 40) {
        assertThat(child.readInt(page * PAGE + 4))
            .isEqualTo(Patterns.expected(page * PAGE + 4, 12));
        random += d.isZero(page) ? 0 : 1;
      }
    }
    // The run read at most 2 pages ahead per page of it (and a first window); random touches read
    // no further than themselves, but for the rare one that happens to follow the one before.
    assertThat(afterRun).isGreaterThan(touched).isLessThanOrEqualTo(3L * touched + 4);
    assertThat(r.source().stats().pagesFetched() - afterRun).isLessThanOrEqualTo(random + 8L);
    r.source().close();
  }

  /** What the proxy does to the n-th GET_PAGES answer it relays. */
  enum Tamper {
    /** Flips a byte of the first page; the hash sent with it stays the true one. */
    WRONG_PAGE,
    /** Sends half the frame, then closes the connection. */
    TRUNCATE,
    /** Sends a frame header one byte over the client's bound. */
    TOO_LARGE,
    /** Holds the answer back and sends the next request's answer first. */
    SWAP
  }

  /** A page service in front of the real one that tampers with one answer of all it relays. */
  private static final class Proxy implements AutoCloseable {
    private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final InetSocketAddress target;
    private final Tamper tamper;
    private final int nth;
    private final AtomicInteger answers = new AtomicInteger();
    private final List<Socket> open = Collections.synchronizedList(new ArrayList<>());
    private final Thread acceptor;

    Proxy(InetSocketAddress target, Tamper tamper, int nth) throws IOException {
      this.target = target;
      this.tamper = tamper;
      this.nth = nth;
      acceptor = Thread.ofVirtual().start(this::accept);
    }

    int port() {
      return socket.getLocalPort();
    }

    boolean tampered() {
      return answers.get() >= nth;
    }

    private void accept() {
      while (!socket.isClosed()) {
        try {
          Socket c = socket.accept();
          open.add(c);
          Thread.ofVirtual().start(() -> relay(c));
        } catch (IOException e) {
          return;
        }
      }
    }

    private void relay(Socket c) {
      try (c;
          Socket up = new Socket(target.getAddress(), target.getPort())) {
        open.add(up);
        DataInputStream in = new DataInputStream(new BufferedInputStream(c.getInputStream()));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(c.getOutputStream()));
        DataInputStream upIn = new DataInputStream(new BufferedInputStream(up.getInputStream()));
        DataOutputStream upOut =
            new DataOutputStream(new BufferedOutputStream(up.getOutputStream()));
        PageProtocol.Frame held = null;
        PageProtocol.Frame f;
        while ((f = PageProtocol.read(in, PageProtocol.MAX_REQUEST)) != null) {
          PageProtocol.write(upOut, f.type(), f.payload());
          PageProtocol.Frame a = PageProtocol.read(upIn, PageProtocol.maxResponse(PAGE));
          if (f.type() != PageProtocol.GET_PAGES) {
            PageProtocol.write(out, a.type(), a.payload());
            continue;
          }
          int n = answers.incrementAndGet();
          if (held != null) {
            PageProtocol.write(out, a.type(), a.payload());
            PageProtocol.write(out, held.type(), held.payload());
            held = null;
            continue;
          }
          if (n != nth) {
            PageProtocol.write(out, a.type(), a.payload());
            continue;
          }
          switch (tamper) {
            case WRONG_PAGE -> {
              byte[] p = a.payload().clone();
              p[3 + 4 + PageProtocol.HASH] ^= 1;
              PageProtocol.write(out, a.type(), p);
            }
            case TRUNCATE -> {
              out.writeInt(a.payload().length + 2);
              out.writeByte(PageProtocol.VERSION);
              out.writeByte(a.type());
              out.write(a.payload(), 0, a.payload().length / 2);
              out.flush();
              endAfterWhatWasSent(c, in);
              return;
            }
            case TOO_LARGE -> {
              out.writeInt(PageProtocol.maxResponse(PAGE) + 1);
              out.writeByte(PageProtocol.VERSION);
              out.writeByte(a.type());
              out.flush();
              endAfterWhatWasSent(c, in);
              return;
            }
            case SWAP -> held = a;
          }
        }
      } catch (IOException e) {
        // either side went away
      }
    }

    /**
     * Ends the client's connection after the bytes already sent: a FIN, then the client's unread
     * requests drained until it hangs up. Closing at once with those requests unread would send a
     * reset, which makes the client's kernel drop answers it has not read yet (an earlier, intact
     * answer then looked cut short, depending on how far the client had read).
     */
    private static void endAfterWhatWasSent(Socket c, java.io.InputStream in) throws IOException {
      c.shutdownOutput();
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }

    @Override
    public void close() throws IOException {
      socket.close();
      synchronized (open) {
        for (Socket s : open) {
          s.close();
        }
      }
      try {
        acceptor.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
