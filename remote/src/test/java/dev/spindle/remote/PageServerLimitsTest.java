package dev.spindle.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The page service under a flood of connections, over real sockets: beyond the per-peer and total
 * caps connections are closed at once and cost no thread, a silent (or trickling) connection is
 * dropped within seconds, and a child keeps being served meanwhile.
 */
class PageServerLimitsTest {
  private static final int PAGE = Patterns.PAGE;

  /** Far longer than the test: in the cap tests, only the caps close connections. */
  private static final Duration NO_DEADLINE = Duration.ofMinutes(5);

  private final List<Socket> flood = new ArrayList<>();
  private PageServer server;

  @AfterEach
  void stop() throws IOException {
    for (Socket s : flood) {
      s.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private PageServer start(PageServer.Limits limits) throws IOException {
    server = PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), limits);
    return server;
  }

  /** A connection to the server from {@code local} (any 127/8 address is loopback on Linux). */
  private Socket open(String local) throws IOException {
    Socket s = new Socket();
    flood.add(s);
    s.bind(new InetSocketAddress(local, 0));
    s.connect(server.address(), 5000);
    return s;
  }

  private static void eventually(String what, BooleanSupplier condition)
      throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > until) {
        throw new AssertionError("not within 10 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  /** True once the server has closed {@code s}: end of stream, or a reset. */
  private static boolean closedByServer(Socket s, Duration wait) throws IOException {
    s.setSoTimeout((int) wait.toMillis());
    try {
      return s.getInputStream().read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true; // reset
    }
  }

  private static long pageConnectionThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("spindle-page-conn"))
        .count();
  }

  @Test
  void connectionsBeyondThePerPeerCapAreClosedAtOnceAndCostNoThread() throws Exception {
    // The flood comes from 127.0.0.2, the child from 127.0.0.1: the cap is per peer, so one
    // flooding peer must not lock out the others.
    try (Socket probe = new Socket()) {
      probe.bind(new InetSocketAddress("127.0.0.2", 0));
    } catch (IOException e) {
      Assumptions.abort("127.0.0.2 is not a local address here: " + e.getMessage());
    }
    start(new PageServer.Limits(256, 32, NO_DEADLINE));
    Capability cap = server.export(Patterns.filled(8, 3).snapshot(), Duration.ofMinutes(1));
    var threads = ManagementFactory.getThreadMXBean();
    long threadsBefore = threads.getThreadCount();
    long connThreadsBefore = pageConnectionThreads();

    for (int i = 0; i < 200; i++) {
      open("127.0.0.2");
    }
    eventually("168 refusals", () -> server.connectionsRefused() == 168);
    assertThat(server.connections()).isEqualTo(32);
    int closed = 0;
    for (Socket s : flood) {
      if (closedByServer(s, Duration.ofMillis(50))) {
        closed++;
      }
    }
    assertThat(closed).as("connections closed by the server").isEqualTo(168);
    assertThat(pageConnectionThreads() - connThreadsBefore).isLessThanOrEqualTo(32);
    assertThat(threads.getThreadCount() - threadsBefore)
        .as("threads added")
        .isLessThanOrEqualTo(32 + 8);

    // A child on another address is served while the flood holds its peer's slots.
    try (PageClient child = new PageClient(server.address(), 5000, PAGE)) {
      PageClient.Fetched got = child.fetch(cap, new int[] {0, 5});
      assertThat(got.pages()[1]).hasSize(PAGE);
      int a = 5 * PAGE + 12;
      assertThat(
              java.nio.ByteBuffer.wrap(got.pages()[1])
                  .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                  .getInt(12))
          .isEqualTo(Patterns.expected(a, 3));
    }
    assertThat(server.pagesServed()).isEqualTo(2);

    // Closing the flood frees its slots: the peer may connect again.
    for (Socket s : flood) {
      s.close();
    }
    flood.clear();
    eventually("the flood's connections to close", () -> server.connections() == 0);
    open("127.0.0.2");
    eventually("a new connection admitted", () -> server.connections() == 1);
    assertThat(server.connectionsRefused()).isEqualTo(168);
  }

  @Test
  void connectionsBeyondTheTotalCapAreClosed() throws Exception {
    start(new PageServer.Limits(10, 32, NO_DEADLINE));
    for (int i = 0; i < 20; i++) {
      open("127.0.0.1");
    }
    eventually("10 refusals", () -> server.connectionsRefused() == 10);
    assertThat(server.connections()).isEqualTo(10);
  }

  @Test
  void aSilentConnectionIsDroppedWithinSeconds() throws Exception {
    start(PageServer.Limits.DEFAULT);
    Socket silent = open("127.0.0.1");
    assertThat(closedByServer(silent, Duration.ofSeconds(10))).as("closed within 10 s").isTrue();
    eventually("the drop counted", () -> server.connectionsTimedOut() == 1);
    assertThat(server.connections()).isZero();
  }

  @Test
  void aTricklingConnectionIsDroppedThoughEachByteComesInTime() throws Exception {
    start(new PageServer.Limits(256, 32, Duration.ofSeconds(1)));
    Socket slow = open("127.0.0.1");
    OutputStream out = slow.getOutputStream();
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    // A frame header announcing 100 bytes, then a byte every 200 ms: never 1 s without a byte.
    byte[] header = {0, 0, 0, 100, PageProtocol.VERSION, PageProtocol.GET_PAGES};
    try {
      for (int i = 0; server.connectionsTimedOut() == 0 && System.nanoTime() < until; i++) {
        out.write(i < header.length ? header[i] : 0);
        out.flush();
        Thread.sleep(200);
      }
    } catch (SocketException e) {
      // the server closed it: what is wanted
    }
    eventually("the drop counted", () -> server.connectionsTimedOut() == 1);
  }

  @Test
  void aWarmConnectionDroppedBeforeTheFirstFaultIsOpenedAgain() throws Exception {
    start(new PageServer.Limits(256, 32, Duration.ofMillis(200)));
    Capability cap = server.export(Patterns.filled(4, 1).snapshot(), Duration.ofMinutes(1));
    try (PageClient child = new PageClient(server.address(), 5000, PAGE)) {
      child.connectAhead();
      // The child's first fault comes after the server dropped the warm, silent connection.
      eventually("the warm connection dropped", () -> server.connectionsTimedOut() == 1);
      assertThat(child.fetch(cap, new int[] {1}).pages()[0]).hasSize(PAGE);
      // Authenticated, a connection gets the idle timeout, not the first-frame one.
      Thread.sleep(600);
      assertThat(child.fetch(cap, new int[] {2}).pages()[0]).hasSize(PAGE);
      assertThat(server.connectionsTimedOut()).isEqualTo(1);
    }
  }

  @Test
  void limitsMustBePositive() {
    assertThatThrownBy(() -> new PageServer.Limits(0, 1, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PageServer.Limits(1, 1, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
