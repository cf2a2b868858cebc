package dev.spindle.remote;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * One connection to a parent's page service, used by one child, with connect and read timeouts so a
 * dead parent is noticed, not waited on.
 *
 * <p>Requests are pipelined: {@link #send} writes a request and returns at once, up to {@value
 * #MAX_IN_FLIGHT} may be in flight, and {@link #await} waits for one answer. The service answers a
 * connection's requests in the order they came (protocol version 2 already does: it reads the next
 * request only after writing an answer), so answers are matched to requests by position and each
 * GET_PAGES answer is still checked to carry exactly the pages asked. There is no reader thread:
 * whoever awaits an answer reads the ones before it off the socket and leaves them for their own
 * waiters, so a lone fault pays no thread hand-off.
 *
 * <p>The socket is a non-blocking channel, so that {@link #connectAhead} can start the TCP
 * handshake without a thread (the kernel completes it while the child resumes; the first request
 * sees it through) and every wait (connect, read, write) is bounded by the timeout.
 */
final class PageClient implements Closeable {
  /** Requests in flight on a connection; a 64-page batch is 4 MiB, so 16 are 64 MiB. */
  static final int MAX_IN_FLIGHT = 16;

  private final InetSocketAddress address;
  private final int timeoutMillis;
  private final int pageSize;

  /** The open connection, or null; guarded by {@code this}, which also orders sends. */
  private Connection connection;

  /** Closed: no connection is opened any more (a warm-up that runs late must not leak one). */
  private boolean closed;

  PageClient(InetSocketAddress address, int timeoutMillis, int pageSize) {
    this.address = address;
    this.timeoutMillis = timeoutMillis;
    this.pageSize = pageSize;
  }

  /** A request sent and its answer, once read (or the failure that ended its connection). */
  static final class Pending {
    private final Connection connection;

    /** Whether the connection was open before this request (see {@link #roundTrip}). */
    private final boolean reused;

    /** The pages asked by a GET_PAGES request (read off the socket page by page), else null. */
    private final int[] asked;

    private PageProtocol.Frame answer;
    private Fetched pages;
    private IOException failure;

    Pending(Connection connection, boolean reused, int[] asked) {
      this.connection = connection;
      this.reused = reused;
      this.asked = asked;
    }

    boolean done() {
      synchronized (connection) {
        return answer != null || pages != null || failure != null;
      }
    }
  }

  /** A socket and the requests on it awaiting their answers, oldest first. */
  private final class Connection {
    final SocketChannel channel;
    final DataInputStream in;
    final DataOutputStream out;

    /**
     * Waits for the socket to be readable (by the one thread holding {@link #reading}), and for the
     * connect to finish or the socket to take more bytes (by sends, which are serialized): each
     * made when first waited on (a child that never faults makes neither); guarded by {@code this}.
     */
    private Selector readable;

    private Selector writable;

    /** Whether the handshake has been seen through; guarded by the client (sends). */
    boolean connected;

    /** Held by the one thread reading answers off the socket. */
    final Object reading = new Object();

    /** Guarded by {@code this}. */
    final java.util.ArrayDeque<Pending> awaiting = new java.util.ArrayDeque<>();

    IOException broken;

    /**
     * A request could not be written: no more are sent here, but the answers already on their way
     * are still read, so that what the peer sent (a protocol error, say) is what their requests
     * learn, not the write's failure.
     */
    boolean retired;

    Connection(SocketChannel ch) throws IOException {
      channel = ch;
      // Smaller than a page: a page's bytes are read from the socket into the page's own array,
      // not through this buffer (BufferedInputStream reads at least its size directly).
      in = new DataInputStream(new BufferedInputStream(new ChannelInput(), 1 << 13));
      out = new DataOutputStream(new BufferedOutputStream(new ChannelOutput(), 1 << 12));
    }

    /** Sees the handshake through, waiting up to the timeout; called by sends. */
    void finishConnect() throws IOException {
      if (connected) {
        return;
      }
      long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
      while (socketIo(() -> channel.finishConnect() ? 1 : 0) == 0) {
        await(true, SelectionKey.OP_CONNECT, deadline, "connect");
      }
      connected = true;
    }

    /** The reading or the writing selector, made now if need be, waiting for {@code ops}. */
    private Selector selector(boolean write, int ops) throws IOException {
      synchronized (this) {
        if (broken != null) {
          throw new SocketException("page client closed the connection");
        }
        Selector s = write ? writable : readable;
        if (s == null) {
          s = Selector.open();
          try {
            channel.register(s, ops);
          } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
          }
          if (write) {
            writable = s;
          } else {
            readable = s;
          }
        } else {
          s.keys().iterator().next().interestOps(ops);
        }
        return s;
      }
    }

    /**
     * Waits on {@code selector} for its one channel until {@code deadline}: a timeout names {@code
     * what}, a connection closed meanwhile fails as closed.
     */
    private void await(boolean write, int ops, long deadline, String what) throws IOException {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException(what + " timed out after " + timeoutMillis + " ms");
      }
      Selector selector = selector(write, ops);
      // A selector does not wait for an interrupted thread (it would spin until the timeout): the
      // wait ignores the interrupt, as a socket's blocking read does, and keeps it for the caller.
      boolean interrupted = Thread.interrupted();
      try {
        selector.select(Math.max(1, left / 1_000_000L));
        selector.selectedKeys().clear();
      } catch (ClosedSelectorException e) {
        throw new SocketException("page client closed the connection");
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
      if (!channel.isOpen()) {
        throw new SocketException("page client closed the connection");
      }
    }

    /** The channel's bytes, waiting at most the timeout for each read. */
    private final class ChannelInput extends InputStream {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : Byte.toUnsignedInt(one[0]);
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        ByteBuffer into = ByteBuffer.wrap(b, off, len);
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (true) {
          int n = socketIo(() -> channel.read(into));
          if (n != 0) {
            return n;
          }
          await(false, SelectionKey.OP_READ, deadline, "read");
        }
      }
    }

    /** Writes to the channel, waiting at most the timeout whenever it takes nothing. */
    private final class ChannelOutput extends OutputStream {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer from = ByteBuffer.wrap(b, off, len);
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (from.hasRemaining()) {
          if (socketIo(() -> channel.write(from)) == 0) {
            await(true, SelectionKey.OP_WRITE, deadline, "write");
          }
        }
      }
    }

    /** Reads answers until {@code p}'s is in; answers before it go to their own requests. */
    void readUntil(Pending p) {
      synchronized (reading) {
        while (!p.done()) {
          Pending head;
          synchronized (this) {
            head = awaiting.peekFirst();
          }
          try {
            Object a = readAnswer(head.asked);
            synchronized (this) {
              awaiting.pollFirst();
              if (a instanceof Fetched f) {
                head.pages = f;
              } else {
                head.answer = (PageProtocol.Frame) a;
              }
              if (retired && awaiting.isEmpty()) {
                fail(new IOException("page client retired this connection"));
              }
            }
          } catch (IOException e) {
            fail(e);
          }
        }
      }
    }

    /**
     * The next answer: to GET_PAGES {@code asked} (when not null) read page by page into the arrays
     * the child keeps, checked to be exactly the pages asked as it comes (a whole 64-page answer as
     * one array is 4 MiB, a humongous object for the collector); else a frame.
     */
    private Object readAnswer(int[] asked) throws IOException {
      int len;
      try {
        len = in.readInt();
      } catch (java.io.EOFException e) {
        throw new ClosedByPeer("page service at " + address + " closed the connection");
      }
      int max = PageProtocol.maxResponse(pageSize);
      if (len < 2 || len > max) {
        throw new PageProtocolException("frame length " + len + " out of bounds (max " + max + ")");
      }
      int version = in.readUnsignedByte();
      if (version != PageProtocol.VERSION) {
        throw new PageProtocolException(
            "unsupported page protocol version "
                + version
                + " (this side speaks "
                + PageProtocol.VERSION
                + ")");
      }
      int type = in.readUnsignedByte();
      if (asked == null || type != PageProtocol.PAGES || len < 5) {
        return new PageProtocol.Frame(type, readFully(new byte[len - 2], 0, len, 6));
      }
      int status = in.readUnsignedByte();
      if (status != PageProtocol.OK) {
        byte[] payload = new byte[len - 2];
        payload[0] = (byte) status;
        return new PageProtocol.Frame(type, readFully(payload, 1, len, 7));
      }
      int count = in.readUnsignedShort();
      if (count != asked.length) {
        throw new PageProtocolException(
            "page service answered " + count + " pages for " + asked.length + " asked");
      }
      if (len != 5 + (long) count * (4 + PageProtocol.HASH + pageSize)) {
        throw new PageProtocolException(
            "page service answered " + len + " bytes for " + count + " pages");
      }
      byte[][] pages = new byte[count][];
      byte[][] hashes = new byte[count][];
      int at = 9;
      for (int k = 0; k < count; k++) {
        int index = in.readInt();
        if (index != asked[k]) {
          throw new PageProtocolException(
              "page service sent page " + index + " for page " + asked[k]);
        }
        hashes[k] = readFully(new byte[PageProtocol.HASH], 0, len, at + 4);
        pages[k] = readFully(new byte[pageSize], 0, len, at + 4 + PageProtocol.HASH);
        at += 4 + PageProtocol.HASH + pageSize;
      }
      return new Fetched(pages, hashes);
    }

    /**
     * Fills {@code b} from {@code from} on, of a frame of {@code len} bytes whose byte {@code at}
     * comes next.
     */
    private byte[] readFully(byte[] b, int from, int len, int at) throws IOException {
      for (int i = from; i < b.length; ) {
        int n = in.read(b, i, b.length - i);
        if (n < 0) {
          throw new PageProtocolException(
              "frame of " + len + " bytes truncated at byte " + (at + i - from));
        }
        i += n;
      }
      return b;
    }

    /** Ends the connection: every request on it fails with {@code e}. */
    void fail(IOException e) {
      Selector r;
      Selector w;
      // One hold of this lock: the client's close() calls here holding the client's lock.
      synchronized (this) {
        if (broken == null) {
          broken = e;
        }
        for (Pending q : awaiting) {
          q.failure = broken;
        }
        awaiting.clear();
        r = readable; // none is made from now on (broken is set)
        w = writable;
      }
      try {
        channel.close();
      } catch (IOException ignored) {
        // already failing
      }
      for (Selector s : new Selector[] {r, w}) {
        try {
          if (s != null) {
            s.close(); // wakes a thread waiting on it
          }
        } catch (IOException ignored) {
          // already failing
        }
      }
    }
  }

  /**
   * Sends a request without waiting for its answer. With {@value #MAX_IN_FLIGHT} already in flight,
   * first reads the oldest answer (kept for its waiter), so the server never blocks writing answers
   * that nobody reads while this side blocks writing requests.
   */
  synchronized Pending send(int type, byte[] payload) throws IOException {
    return send(type, payload, null);
  }

  /** As {@link #send(int, byte[])}; {@code asked}: the pages of a GET_PAGES request. */
  synchronized Pending send(int type, byte[] payload, int[] asked) throws IOException {
    Connection before = connection;
    Connection c = connect();
    boolean reused = c == before;
    while (true) {
      Pending oldest;
      synchronized (c) {
        oldest = c.awaiting.size() < MAX_IN_FLIGHT ? null : c.awaiting.peekFirst();
      }
      if (oldest == null) {
        break;
      }
      c.readUntil(oldest);
    }
    try {
      c.finishConnect();
    } catch (IOException e) {
      c.fail(e);
      connection = null;
      throw new IOException(
          "page service at " + address + " does not answer: " + e.getMessage(), e);
    }
    Pending p;
    synchronized (c) {
      if (c.broken != null || c.retired) {
        connection = null;
        throw c.broken != null
            ? c.broken
            : new IOException("page service at " + address + " stopped reading");
      }
      p = new Pending(c, reused, asked);
      c.awaiting.addLast(p);
    }
    try {
      PageProtocol.write(c.out, type, payload);
    } catch (IOException e) {
      synchronized (c) {
        c.retired = true;
        c.awaiting.removeLastOccurrence(p);
        p.failure = e;
        if (c.awaiting.isEmpty()) {
          c.fail(e);
        }
      }
      connection = null;
    }
    return p;
  }

  /** {@code p}'s answer: read off the socket here if nobody has yet. */
  PageProtocol.Frame await(Pending p) throws IOException {
    awaitDone(p);
    synchronized (p.connection) {
      if (p.answer == null) {
        throw new PageProtocolException("page service answered a frame read as pages");
      }
      return p.answer;
    }
  }

  private void awaitDone(Pending p) throws IOException {
    p.connection.readUntil(p);
    IOException failure;
    synchronized (p.connection) {
      failure = p.failure;
    }
    if (failure != null) {
      // Not inside the connection's lock: close() takes this client's lock, then the connection's.
      synchronized (this) {
        if (connection == p.connection) {
          connection = null;
        }
      }
      throw failure;
    }
  }

  /** Asks for pages {@code indices} without waiting: {@link #pages(Pending, int[])} has them. */
  Pending sendFetch(Capability cap, int[] indices) throws IOException {
    return send(PageProtocol.GET_PAGES, fetchRequest(cap, indices), indices.clone());
  }

  /** The answer to {@link #sendFetch}, checked to be exactly the pages asked. */
  Fetched pages(Pending p, int[] indices) throws IOException {
    try {
      awaitDone(p);
      Fetched f;
      synchronized (p.connection) {
        f = p.pages;
      }
      return f != null ? f : pages(await(p), indices, pageSize);
    } catch (PageProtocolException e) {
      // Answers are matched by position: after one that is not what was asked, none on this
      // connection can be trusted to be.
      p.connection.fail(e);
      throw e;
    }
  }

  private static byte[] fetchRequest(Capability cap, int[] indices) {
    ByteBuffer req = ByteBuffer.allocate(Capability.BYTES + 2 + 4 * indices.length);
    req.put(cap.bytes()).putShort((short) indices.length);
    for (int i : indices) {
      req.putInt(i);
    }
    return req.array();
  }

  /** Pages as the parent sent them, in the order asked, each with the hash the parent computed. */
  record Fetched(byte[][] pages, byte[][] hashes) {}

  /** Fetches pages {@code indices}. */
  Fetched fetch(Capability cap, int[] indices) throws IOException {
    byte[] request = fetchRequest(cap, indices);
    Pending p = send(PageProtocol.GET_PAGES, request, indices.clone());
    try {
      return pages(p, indices);
    } catch (ClosedByPeer | java.net.SocketException e) {
      if (!p.reused) {
        throw e;
      }
      return pages(
          send(PageProtocol.GET_PAGES, request, indices.clone()), indices); // see roundTrip
    }
  }

  /** Parses an answer to GET_PAGES {@code indices}: bytes from the network, checked throughout. */
  static Fetched pages(PageProtocol.Frame f, int[] indices, int pageSize) throws IOException {
    ByteBuffer p = ok(f);
    if (p.remaining() < 2) {
      throw new PageProtocolException(
          "page service answered " + p.remaining() + " bytes for " + indices.length + " pages");
    }
    int count = Short.toUnsignedInt(p.getShort());
    if (count != indices.length || p.remaining() != count * (4 + PageProtocol.HASH + pageSize)) {
      throw new PageProtocolException(
          "page service answered " + count + " pages for " + indices.length + " asked");
    }
    byte[][] pages = new byte[count][];
    byte[][] hashes = new byte[count][];
    for (int i = 0; i < count; i++) {
      int index = p.getInt();
      if (index != indices[i]) {
        throw new PageProtocolException(
            "page service sent page " + index + " for page " + indices[i]);
      }
      hashes[i] = new byte[PageProtocol.HASH];
      p.get(hashes[i]);
      pages[i] = new byte[pageSize];
      p.get(pages[i]);
    }
    return new Fetched(pages, hashes);
  }

  /** The hashes of pages {@code first .. first+count-1}, 32 bytes each (zero for a zero page). */
  byte[] hashes(Capability cap, int first, int count) throws IOException {
    ByteBuffer req = ByteBuffer.allocate(Capability.BYTES + 6);
    req.put(cap.bytes()).putInt(first).putShort((short) count);
    return hashes(roundTrip(PageProtocol.GET_HASHES, req.array()), count);
  }

  /** Parses an answer to GET_HASHES for {@code count} pages. */
  static byte[] hashes(PageProtocol.Frame f, int count) throws IOException {
    ByteBuffer p = ok(f);
    int n = p.remaining() < 2 ? -1 : Short.toUnsignedInt(p.getShort());
    if (n != count || p.remaining() != count * PageProtocol.HASH) {
      throw new PageProtocolException(
          "page service answered " + n + " hashes for " + count + " asked");
    }
    byte[] h = new byte[count * PageProtocol.HASH];
    p.get(h);
    return h;
  }

  /** A piece of a Git object as the parent sent it: its content from the offset asked. */
  record ObjectPart(byte[] id, int type, long size, byte[] bytes) {}

  /**
   * Asks for Git objects {@code ids} each from {@code offsets} (-1: the header only): the answer is
   * a prefix of them, checked to name exactly the objects asked in order, each no larger than
   * {@code maxSize} bytes and no piece longer than what is left of it.
   */
  java.util.List<ObjectPart> objects(Capability cap, byte[][] ids, long[] offsets, long maxSize)
      throws IOException {
    ByteBuffer req =
        ByteBuffer.allocate(Capability.BYTES + 2 + ids.length * (PageProtocol.GIT_ID + 8));
    req.put(cap.bytes()).putShort((short) ids.length);
    for (int k = 0; k < ids.length; k++) {
      req.put(ids[k]).putLong(offsets[k]);
    }
    ByteBuffer p = ok(roundTrip(PageProtocol.GET_OBJECTS, req.array()));
    int count = p.remaining() < 2 ? -1 : Short.toUnsignedInt(p.getShort());
    if (count < 1 || count > ids.length) {
      throw new PageProtocolException(
          "page service answered " + count + " objects for " + ids.length + " asked");
    }
    java.util.List<ObjectPart> parts = new java.util.ArrayList<>();
    for (int k = 0; k < count; k++) {
      String which = "object " + java.util.HexFormat.of().formatHex(ids[k]);
      if (p.remaining() < PageProtocol.OBJECT_HEADER) {
        throw new PageProtocolException(which + ": the answer ends in its header");
      }
      byte[] id = new byte[PageProtocol.GIT_ID];
      p.get(id);
      if (!java.util.Arrays.equals(id, ids[k])) {
        throw new PageProtocolException(which + ": the page service sent another object");
      }
      int type = Byte.toUnsignedInt(p.get());
      long size = p.getLong();
      long length = Integer.toUnsignedLong(p.getInt());
      if (size < 0 || size > maxSize) {
        throw new PageProtocolException(
            which + ": the page service says " + size + " bytes, more than " + maxSize);
      }
      long left = offsets[k] < 0 ? 0 : size - offsets[k];
      if (length > left || length > p.remaining()) {
        throw new PageProtocolException(
            which + ": the page service sent " + length + " bytes where " + left + " were left");
      }
      byte[] b = new byte[(int) length];
      p.get(b);
      parts.add(new ObjectPart(id, type, size, b));
    }
    if (p.hasRemaining()) {
      throw new PageProtocolException("page service sent bytes past the objects it answered");
    }
    return parts;
  }

  /** The exported module, fetched in chunks; at most {@code maxBytes} long. */
  byte[] module(Capability cap, int maxBytes) throws IOException {
    byte[] module = null;
    int offset = 0;
    do {
      ByteBuffer req = ByteBuffer.allocate(Capability.BYTES + 4).put(cap.bytes()).putInt(offset);
      ByteBuffer p = ok(roundTrip(PageProtocol.GET_MODULE, req.array()));
      int total = p.remaining() >= 4 ? p.getInt() : -1;
      if (total < 0
          || total > maxBytes
          || (module != null && total != module.length)
          || p.remaining() > total - offset
          || (p.remaining() == 0 && offset < total)) {
        throw new PageProtocolException("page service sent a bad module chunk at offset " + offset);
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
      throw new PageProtocolException("page service sent an empty answer");
    }
    int status = Byte.toUnsignedInt(p.get());
    if (status != PageProtocol.OK) {
      throw new PageServiceException(status, message(p));
    }
    return p;
  }

  /**
   * Starts opening the connection, so that the child's first fault does not pay for the TCP
   * handshake: the kernel runs it meanwhile and no thread waits for it (starting and waking one
   * cost more than the handshake on loopback). A failure is left for the first request to report
   * (and fall back on).
   */
  void connectAhead() {
    try {
      connect();
    } catch (IOException e) {
      // the first request reports it
    }
  }

  void release(Capability cap) throws IOException {
    ok(roundTrip(PageProtocol.RELEASE, cap.bytes()));
  }

  /**
   * One request and its answer. A connection opened earlier (the warm-up, or a previous request's)
   * may have been closed by the server meanwhile: it drops a connection that shows no capability
   * within seconds of opening (the warm-up one, if the child's first fault comes later) and one
   * idle for a minute. Closed before answering, such a request is sent once more on a new one.
   */
  private PageProtocol.Frame roundTrip(int type, byte[] payload) throws IOException {
    Pending p = send(type, payload);
    try {
      return await(p);
    } catch (ClosedByPeer | java.net.SocketException e) {
      if (!p.reused) {
        throw e;
      }
      return await(send(type, payload));
    }
  }

  /** The server closed the connection before answering. */
  private static final class ClosedByPeer extends IOException {
    private static final long serialVersionUID = 1L;

    ClosedByPeer(String message) {
      super(message);
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

  /** The open connection, opened now if there is none (or the last one failed). */
  private synchronized Connection connect() throws IOException {
    Connection c = connection;
    if (c != null) {
      synchronized (c) {
        if (c.broken == null && !c.retired) {
          return c;
        }
      }
    }
    connection = null;
    if (closed) {
      throw new IOException("page client for " + address + " is closed");
    }
    SocketChannel s = SocketChannel.open();
    try {
      s.configureBlocking(false);
      s.setOption(StandardSocketOptions.TCP_NODELAY, true);
      boolean connected = s.connect(address); // else seen through by the first request
      connection = new Connection(s);
      if (connected) {
        connection.finishConnect();
      }
    } catch (IOException | RuntimeException e) {
      s.close();
      throw new IOException(
          "page service at " + address + " does not answer: " + e.getMessage(), e);
    }
    return connection;
  }

  /** One read, write or connect step on a channel. */
  @FunctionalInterface
  private interface SocketIo {
    int run() throws IOException;
  }

  /**
   * Runs {@code io}, reporting an I/O failure of the connection as a {@link SocketException} (as a
   * socket's streams do), so that a request on a connection the server closed is sent again on a
   * new one ({@link #roundTrip}).
   */
  private static int socketIo(SocketIo io) throws IOException {
    try {
      return io.run();
    } catch (SocketException | java.nio.channels.ClosedChannelException e) {
      throw e;
    } catch (IOException e) {
      throw (SocketException) new SocketException(e.getMessage()).initCause(e);
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (connection != null) {
      connection.fail(new IOException("page client closed"));
      connection = null;
    }
  }
}
