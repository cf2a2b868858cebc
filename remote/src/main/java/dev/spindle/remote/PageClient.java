package dev.spindle.remote;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One connection to a parent's page service, used by one child. Requests are synchronous and
 * serialised (a child faults one page at a time; batching is how it asks for more), with connect
 * and read timeouts so a dead parent is noticed, not waited on.
 */
final class PageClient implements Closeable {
  private final InetSocketAddress address;
  private final int timeoutMillis;
  private final int pageSize;
  private Socket socket;
  private DataInputStream in;
  private DataOutputStream out;

  PageClient(InetSocketAddress address, int timeoutMillis, int pageSize) {
    this.address = address;
    this.timeoutMillis = timeoutMillis;
    this.pageSize = pageSize;
  }

  /** Pages as the parent sent them, in the order asked, each with the hash the parent computed. */
  record Fetched(byte[][] pages, byte[][] hashes) {}

  /** Fetches pages {@code indices}. */
  synchronized Fetched fetch(Capability cap, int[] indices) throws IOException {
    ByteBuffer req = ByteBuffer.allocate(Capability.BYTES + 2 + 4 * indices.length);
    req.put(cap.bytes()).putShort((short) indices.length);
    for (int i : indices) {
      req.putInt(i);
    }
    return pages(roundTrip(PageProtocol.GET_PAGES, req.array()), indices, pageSize);
  }

  /** Parses an answer to GET_PAGES {@code indices}: bytes from the network, checked throughout. */
  static Fetched pages(PageProtocol.Frame f, int[] indices, int pageSize) throws IOException {
    ByteBuffer p = ok(f);
    if (p.remaining() < 2) {
      throw new IOException("page service answered " + p.remaining() + " bytes for " + indices.length + " pages");
    }
    int count = Short.toUnsignedInt(p.getShort());
    if (count != indices.length || p.remaining() != count * (4 + PageProtocol.HASH + pageSize)) {
      throw new IOException("page service answered " + count + " pages for " + indices.length + " asked");
    }
    byte[][] pages = new byte[count][];
    byte[][] hashes = new byte[count][];
    for (int i = 0; i < count; i++) {
      int index = p.getInt();
      if (index != indices[i]) {
        throw new IOException("page service sent page " + index + " for page " + indices[i]);
      }
      hashes[i] = new byte[PageProtocol.HASH];
      p.get(hashes[i]);
      pages[i] = new byte[pageSize];
      p.get(pages[i]);
    }
    return new Fetched(pages, hashes);
  }

  /** The hashes of pages {@code first .. first+count-1}, 32 bytes each (zero for a zero page). */
  synchronized byte[] hashes(Capability cap, int first, int count) throws IOException {
    ByteBuffer req = ByteBuffer.allocate(Capability.BYTES + 6);
    req.put(cap.bytes()).putInt(first).putShort((short) count);
    return hashes(roundTrip(PageProtocol.GET_HASHES, req.array()), count);
  }

  /** Parses an answer to GET_HASHES for {@code count} pages. */
  static byte[] hashes(PageProtocol.Frame f, int count) throws IOException {
    ByteBuffer p = ok(f);
    int n = p.remaining() < 2 ? -1 : Short.toUnsignedInt(p.getShort());
    if (n != count || p.remaining() != count * PageProtocol.HASH) {
      throw new IOException("page service answered " + n + " hashes for " + count + " asked");
    }
    byte[] h = new byte[count * PageProtocol.HASH];
    p.get(h);
    return h;
  }

  /** The exported module, fetched in chunks; at most {@code maxBytes} long. */
  synchronized byte[] module(Capability cap, int maxBytes) throws IOException {
    byte[] module = null;
    int offset = 0;
    do {
      ByteBuffer req = ByteBuffer.allocate(Capability.BYTES + 4).put(cap.bytes()).putInt(offset);
      ByteBuffer p = ok(roundTrip(PageProtocol.GET_MODULE, req.array()));
      int total = p.remaining() >= 4 ? p.getInt() : -1;
      if (total < 0 || total > maxBytes || (module != null && total != module.length)
          || p.remaining() > total - offset || (p.remaining() == 0 && offset < total)) {
        throw new IOException("page service sent a bad module chunk at offset " + offset);
      }
      if (module == null) {
        module = new byte[total];
      }
      int n = p.remaining();
      p.get(module, offset, n);
      offset += n;
    } while (offset < module.length);
    return module;
  }

  private static ByteBuffer ok(PageProtocol.Frame f) throws IOException {
    ByteBuffer p = ByteBuffer.wrap(f.payload());
    if (!p.hasRemaining()) {
      throw new IOException("page service sent an empty answer");
    }
    int status = Byte.toUnsignedInt(p.get());
    if (status != PageProtocol.OK) {
      throw new PageServiceException(status, message(p));
    }
    return p;
  }

  /**
   * Opens the connection in the background, so that the child's first fault does not pay for the
   * TCP handshake; a failure is left for the first request to report (and fall back on).
   */
  void warmUpInBackground() {
    Thread.ofVirtual().name("spindle-page-connect").start(() -> {
      synchronized (this) {
        try {
          connect();
        } catch (IOException e) {
          // the first request reports it
        }
      }
    });
  }

  synchronized void release(Capability cap) throws IOException {
    ok(roundTrip(PageProtocol.RELEASE, cap.bytes()));
  }

  /**
   * One request and its answer. A connection opened earlier (the warm-up, or a previous request's)
   * may have been closed by the server meanwhile: it drops a connection that shows no capability
   * within seconds of opening (the warm-up one, if the child's first fault comes later) and one
   * idle for a minute. Closed before answering, such a request is sent once more on a new one.
   */
  private PageProtocol.Frame roundTrip(int type, byte[] payload) throws IOException {
    boolean reused = socket != null;
    try {
      return attempt(type, payload);
    } catch (ClosedByPeer | java.net.SocketException e) {
      if (!reused) {
        throw e;
      }
      return attempt(type, payload);
    }
  }

  /** The server closed the connection before answering. */
  private static final class ClosedByPeer extends IOException {
    private static final long serialVersionUID = 1L;

    ClosedByPeer(String message) {
      super(message);
    }
  }

  private PageProtocol.Frame attempt(int type, byte[] payload) throws IOException {
    try {
      connect();
      PageProtocol.write(out, type, payload);
      PageProtocol.Frame f = PageProtocol.read(in, PageProtocol.maxResponse(pageSize));
      if (f == null) {
        throw new ClosedByPeer("page service at " + address + " closed the connection");
      }
      return f;
    } catch (IOException e) {
      disconnect();
      throw e;
    }
  }

  private static String message(ByteBuffer p) {
    if (p.remaining() < 2) {
      return "";
    }
    int len = Short.toUnsignedInt(p.getShort());
    byte[] m = new byte[Math.min(len, p.remaining())];
    p.get(m);
    return new String(m, StandardCharsets.UTF_8);
  }

  private void connect() throws IOException {
    if (socket != null) {
      return;
    }
    Socket s = new Socket();
    try {
      s.connect(address, timeoutMillis);
      s.setSoTimeout(timeoutMillis);
      s.setTcpNoDelay(true);
    } catch (IOException e) {
      s.close();
      throw new IOException("page service at " + address + " does not answer: " + e.getMessage(), e);
    }
    socket = s;
    in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 17));
    out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 12));
  }

  private void disconnect() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // already failing
      }
      socket = null;
    }
  }

  @Override
  public synchronized void close() {
    disconnect();
  }
}
