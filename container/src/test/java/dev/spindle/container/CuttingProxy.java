package dev.spindle.container;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP proxy to a local port that breaks one connection, once, after it has carried {@code
 * cutAfter} bytes towards the client: a download interrupted mid-blob. It notes whether a client
 * asked for a byte range.
 */
final class CuttingProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int upstream;
  private final long cutAfter;
  final AtomicBoolean cut = new AtomicBoolean();
  final AtomicBoolean rangeAsked = new AtomicBoolean();

  /** Bytes carried towards the client (headers included): what a pull moved. */
  final java.util.concurrent.atomic.AtomicLong toClient =
      new java.util.concurrent.atomic.AtomicLong();

  private final boolean staysDown;

  /** Every connection's two sockets: when the link goes down, they all break, not only one. */
  private final java.util.Set<Socket> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * When set, requests reach the registry with their Range header renamed: a registry ignoring
   * Range.
   */
  volatile boolean hideRange;

  CuttingProxy(int upstream, long cutAfter) throws IOException {
    this(upstream, cutAfter, false);
  }

  /**
   * {@code staysDown}: after the cut, every new connection is closed at once (the link is gone).
   */
  CuttingProxy(int upstream, long cutAfter, boolean staysDown) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.upstream = upstream;
    this.cutAfter = cutAfter;
    this.staysDown = staysDown;
    Thread.ofVirtual().start(this::accept);
  }

  int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        if (staysDown && cut.get()) {
          client.close();
          continue;
        }
        Socket up = new Socket(InetAddress.getLoopbackAddress(), upstream);
        open.add(client);
        open.add(up);
        Thread.ofVirtual().start(() -> pump(client, up, false));
        Thread.ofVirtual().start(() -> pump(up, client, true));
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void pump(Socket from, Socket to, boolean towardsClient) {
    long carried = 0;
    byte[] buf = new byte[8192];
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      for (int n; (n = in.read(buf)) > 0; ) {
        if (!towardsClient
            && new String(buf, 0, n, StandardCharsets.ISO_8859_1)
                .toLowerCase(Locale.ROOT)
                .contains("range: bytes=")) {
          rangeAsked.set(true);
        }
        if (!towardsClient && hideRange) {
          hide(buf, n);
        }
        if (towardsClient && carried + n > cutAfter && cut.compareAndSet(false, true)) {
          out.write(buf, 0, (int) (cutAfter - carried));
          out.flush();
          from.close();
          to.close();
          if (staysDown) {
            // A client's other keep-alive connections must not carry its retry either.
            open.forEach(CuttingProxy::closeQuietly);
          }
          return;
        }
        out.write(buf, 0, n);
        out.flush();
        carried += n;
        if (towardsClient) {
          toClient.addAndGet(n);
        }
      }
    } catch (IOException done) {
      // either side went away
    } finally {
      closeQuietly(from);
      closeQuietly(to);
      open.remove(from);
      open.remove(to);
    }
  }

  /** "Range:" becomes "X-Nop:" (same length) wherever a request line starts it. */
  private static void hide(byte[] buf, int n) {
    byte[] range = "\r\nRange:".getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i + range.length <= n; i++) {
      boolean match = true;
      for (int j = 0; j < range.length && match; j++) {
        match = Character.toLowerCase(buf[i + j]) == Character.toLowerCase(range[j]);
      }
      if (match) {
        System.arraycopy("X-Nop".getBytes(StandardCharsets.ISO_8859_1), 0, buf, i + 2, 5);
      }
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
