package dev.spindle.remote;

import dev.spindle.memory.PageTable;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves pages of exported page tables to children on other nodes. A table is immutable, so serving
 * needs no locking and the parent keeps running (its later writes copy pages first, as a live
 * snapshot's do). Each export is reachable only with its capability, until it expires or is
 * released.
 *
 * <p>Connections are capped ({@link Limits}): anyone who can reach the port can open them, and each
 * costs a platform thread (3,000 idle ones took a node from 35 to 1,391 threads). Beyond the caps a
 * connection is closed at once; one that has not shown an exported capability within the
 * first-frame timeout is dropped, so a flood of silent connections holds its slots for seconds, not
 * the minute an idle child is allowed.
 *
 * <p>A connection's thread is kept a few seconds after it closes, for the next one: a child's first
 * fault then does not wait for a thread to be made.
 */
public final class PageServer implements Closeable {
  private static final int IDLE_TIMEOUT_MS = 60_000;

  /** How long a connection's thread waits for the next connection before it ends. */
  private static final long THREAD_KEEP_ALIVE_SECONDS = 10;

  /**
   * Bytes of a GET_PAGES answer gathered before each write: written from a direct buffer, a page is
   * copied once on its way to the socket (a heap array is copied to a direct buffer by the JDK
   * anyway), and a 64-page answer takes 16 writes.
   */
  private static final int WRITE_CHUNK = 256 << 10;

  /**
   * Caps on connections: in total, per peer address (a child holds two; a node running many
   * children of one parent, a few dozen), and how long a new connection may take to send a frame
   * naming an exported capability.
   */
  public record Limits(int maxConnections, int maxConnectionsPerPeer, Duration firstFrameTimeout) {
    public static final Limits DEFAULT = new Limits(256, 32, Duration.ofSeconds(2));

    public Limits {
      if (maxConnections < 1 || maxConnectionsPerPeer < 1) {
        throw new IllegalArgumentException(
            "connection caps must be at least 1: " + maxConnections + ", " + maxConnectionsPerPeer);
      }
      if (firstFrameTimeout.isNegative() || firstFrameTimeout.isZero()) {
        throw new IllegalArgumentException(
            "first-frame timeout must be positive: " + firstFrameTimeout);
      }
    }
  }

  /**
   * An exported table, and the module and files children may ask for (each null when there is
   * none).
   */
  private record Export(PageTable table, byte[] module, GitObjects objects, long expiresAtMillis) {}

  private final ServerSocketChannel socket;
  private final InetSocketAddress address;
  private final Map<Capability, Export> exports = new ConcurrentHashMap<>();
  private final AtomicLong pagesServed = new AtomicLong();
  private final AtomicLong requestsRefused = new AtomicLong();
  private final AtomicLong objectBytesServed = new AtomicLong();
  private final AtomicLong connectionsRefused = new AtomicLong();
  private final AtomicLong connectionsTimedOut = new AtomicLong();
  private final Limits limits;

  /** Open connections, in total and by peer address; guarded by {@code this}. */
  private int open;

  private final Map<InetAddress, Integer> openByPeer = new HashMap<>();
  private final Thread acceptor;

  /**
   * The connections' threads: as many as there are connections (the caps bound them), each kept
   * {@value #THREAD_KEEP_ALIVE_SECONDS} s after its connection closes.
   */
  private final ThreadPoolExecutor connectionThreads =
      new ThreadPoolExecutor(
          0,
          Integer.MAX_VALUE,
          THREAD_KEEP_ALIVE_SECONDS,
          TimeUnit.SECONDS,
          new SynchronousQueue<>(),
          Thread.ofPlatform().daemon().name("spindle-page-conn").factory());

  private PageServer(ServerSocketChannel socket, Limits limits) throws IOException {
    this.socket = socket;
    this.address = (InetSocketAddress) socket.getLocalAddress();
    this.limits = limits;
    this.acceptor = Thread.ofPlatform().daemon().name("spindle-page-server").start(this::accept);
  }

  /** Listens on {@code bind} (port 0 picks one), with the {@link Limits#DEFAULT default} caps. */
  public static PageServer start(InetSocketAddress bind) throws IOException {
    return start(bind, Limits.DEFAULT);
  }

  /** Listens on {@code bind} (port 0 picks one), with {@code limits} on connections. */
  public static PageServer start(InetSocketAddress bind, Limits limits) throws IOException {
    ServerSocketChannel s = ServerSocketChannel.open();
    try {
      s.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      s.bind(bind);
      return new PageServer(s, limits);
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  public InetSocketAddress address() {
    return address;
  }

  /** Makes {@code table}'s pages readable with a new capability for {@code ttl}. */
  public Capability export(PageTable table, Duration ttl) {
    return export(table, null, ttl);
  }

  /**
   * As {@link #export(PageTable, Duration)}, with the sandbox's Wasm module readable under the same
   * capability, for a child whose node does not have it.
   */
  public Capability export(PageTable table, byte[] module, Duration ttl) {
    return export(table, module, null, ttl);
  }

  /**
   * As {@link #export(PageTable, byte[], Duration)}, with the sandbox's files readable under the
   * same capability: the Git objects {@code objects} holds (GET_OBJECTS), or none when null.
   */
  public Capability export(PageTable table, byte[] module, GitObjects objects, Duration ttl) {
    long now = System.currentTimeMillis();
    exports.values().removeIf(e -> now > e.expiresAtMillis());
    Capability c = Capability.random();
    exports.put(c, new Export(table, module, objects, System.currentTimeMillis() + ttl.toMillis()));
    return c;
  }

  /** Forgets an export: later requests with its capability are refused. */
  public boolean release(Capability c) {
    return exports.remove(c) != null;
  }

  /** Whether {@code c} still grants reading (not released; expiry is checked on use). */
  public boolean isExported(Capability c) {
    return exports.containsKey(c);
  }

  /** Descriptors this node currently serves (expired ones are dropped here). */
  public int exports() {
    long now = System.currentTimeMillis();
    exports.values().removeIf(e -> now > e.expiresAtMillis());
    return exports.size();
  }

  public long pagesServed() {
    return pagesServed.get();
  }

  /** Content bytes of Git objects (files) answered to children. */
  public long objectBytesServed() {
    return objectBytesServed.get();
  }

  public long requestsRefused() {
    return requestsRefused.get();
  }

  /** Connections closed on arrival because a cap ({@link Limits}) was reached. */
  public long connectionsRefused() {
    return connectionsRefused.get();
  }

  /** Connections dropped for sending no frame with an exported capability in time. */
  public long connectionsTimedOut() {
    return connectionsTimedOut.get();
  }

  /** Connections open now. */
  public synchronized int connections() {
    return open;
  }

  private void accept() {
    while (socket.isOpen()) {
      SocketChannel s;
      try {
        s = socket.accept();
      } catch (IOException e) {
        if (!socket.isOpen()) {
          return;
        }
        continue;
      }
      InetAddress peer = s.socket().getInetAddress();
      // Refused before a thread exists: the caps are what bound the threads.
      if (!admit(peer)) {
        connectionsRefused.incrementAndGet();
        closeQuietly(s);
        continue;
      }
      try {
        // A platform thread per connection: a connection is a child's fault path, and a platform
        // thread wakes on its socket directly where a virtual one goes through the poller and a
        // carrier. Measured on random faults over a 1 GiB parent: 92-123 us a page against
        // 122-169 us. A child holds two connections; idle ones close after a minute.
        connectionThreads.execute(
            () -> {
              try {
                serve(s);
              } finally {
                leave(peer);
              }
            });
      } catch (OutOfMemoryError | RuntimeException e) {
        // No thread to be had (the node's limit): refuse this one, keep accepting.
        leave(peer);
        connectionsRefused.incrementAndGet();
        closeQuietly(s);
      }
    }
  }

  private synchronized boolean admit(InetAddress peer) {
    int mine = openByPeer.getOrDefault(peer, 0);
    if (open >= limits.maxConnections() || mine >= limits.maxConnectionsPerPeer()) {
      return false;
    }
    open++;
    openByPeer.put(peer, mine + 1);
    return true;
  }

  private synchronized void leave(InetAddress peer) {
    open--;
    openByPeer.computeIfPresent(peer, (k, n) -> n == 1 ? null : n - 1);
  }

  private static void closeQuietly(SocketChannel s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing a refused connection: nothing to do
    }
  }

  private void serve(SocketChannel ch) {
    FirstFrameDeadline deadline = null;
    try (ch) {
      Socket s = ch.socket();
      s.setTcpNoDelay(true);
      deadline = new FirstFrameDeadline(s, limits.firstFrameTimeout());
      DataOutputStream out =
          new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
      ChannelPageWriter pages = new ChannelPageWriter(ch);
      serve(
          new DataInputStream(new BufferedInputStream(deadline, 1 << 16)),
          out,
          p -> {
            out.flush(); // nothing is buffered there between answers; kept in order regardless
            pages.write(p);
          },
          deadline::lift);
    } catch (SocketTimeoutException e) {
      if (deadline != null && !deadline.lifted()) {
        connectionsTimedOut.incrementAndGet(); // silent, slow or never authenticated
      } // else idle past the idle timeout: a child that stopped faulting
    } catch (SocketException e) {
      // peer went away
    } catch (IOException e) {
      requestsRefused.incrementAndGet(); // malformed frame: drop the connection
    }
  }

  /**
   * The socket's input with a deadline for the first frame naming an exported capability: until
   * {@link #lift}, each read may only wait what is left of it (an SO_TIMEOUT alone restarts with
   * every byte, so a peer trickling a byte a second would never be dropped); then the idle timeout.
   */
  private static final class FirstFrameDeadline extends FilterInputStream {
    private final Socket socket;
    private final long deadlineNanos;
    private boolean lifted;

    FirstFrameDeadline(Socket socket, Duration timeout) throws IOException {
      super(socket.getInputStream());
      this.socket = socket;
      this.deadlineNanos = System.nanoTime() + timeout.toNanos();
      socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
    }

    boolean lifted() {
      return lifted;
    }

    void lift() throws IOException {
      if (!lifted) {
        lifted = true;
        socket.setSoTimeout(IDLE_TIMEOUT_MS);
      }
    }

    private void beforeRead() throws IOException {
      if (lifted) {
        return;
      }
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException("no frame with an exported capability in time");
      }
      socket.setSoTimeout((int) Math.max(1, Duration.ofNanos(left).toMillis()));
    }

    @Override
    public int read() throws IOException {
      beforeRead();
      return super.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      beforeRead();
      return super.read(b, off, len);
    }
  }

  /** Something to run once a connection has shown an exported capability. */
  @FunctionalInterface
  interface OnAuthenticated {
    void run() throws IOException;
  }

  /**
   * Answers the frames of one connection until it closes. Bytes from anywhere: a malformed frame
   * ends the connection with an IOException, any other request gets an answer (the fuzz test holds
   * it to that).
   */
  void serve(DataInputStream in, DataOutputStream out) throws IOException {
    serve(in, out, p -> writePages(out, p), () -> {});
  }

  /** Where a GET_PAGES answer is written. */
  @FunctionalInterface
  private interface PageWriter {
    void write(Pages p) throws IOException;
  }

  private void serve(
      DataInputStream in,
      DataOutputStream out,
      PageWriter pageWriter,
      OnAuthenticated authenticated)
      throws IOException {
    PageProtocol.Frame f;
    while ((f = PageProtocol.read(in, PageProtocol.MAX_REQUEST)) != null) {
      // Before answering: a RELEASE ends the export it names, yet it showed the capability.
      if (namesExport(f)) {
        authenticated.run();
      }
      Object a = answer(f);
      if (a instanceof Pages pages) {
        pagesServed.addAndGet(pages.indices().length); // before: the reader may read it next
        pageWriter.write(pages);
      } else {
        PageProtocol.write(out, PageProtocol.PAGES, (byte[]) a);
      }
    }
  }

  /** Pages to answer with, all in the table: written as they are read, not built as one array. */
  private record Pages(PageTable table, int[] indices) {}

  /**
   * Writes an answer to GET_PAGES page by page: a 64-page answer built whole was a 4 MiB array per
   * request, which the collector allocates as a humongous object (as was the client's).
   */
  private static void writePages(DataOutputStream out, Pages p) throws IOException {
    int n = p.indices().length;
    out.writeInt(answerLength(n));
    out.writeByte(PageProtocol.VERSION);
    out.writeByte(PageProtocol.PAGES);
    out.writeByte(PageProtocol.OK);
    out.writeShort(n);
    byte[] page = new byte[PageTable.PAGE_SIZE];
    for (int index : p.indices()) {
      // Hashing here (once per frame; cached) is what lets a child check a page whose hash was
      // pending in its descriptor.
      out.writeInt(index);
      out.write(p.table().sha256(index));
      p.table().page(index).get(page);
      out.write(page);
    }
    out.flush();
  }

  /** The frame length of a GET_PAGES answer of {@code n} pages. */
  private static int answerLength(int n) {
    return 2 + 3 + n * (4 + PageProtocol.HASH + PageTable.PAGE_SIZE);
  }

  /**
   * Writes GET_PAGES answers to a connection's channel through one direct buffer, the same bytes as
   * {@link #writePages}: each page is copied once, from its frame into the buffer.
   */
  private static final class ChannelPageWriter {
    /**
     * One buffer per connection thread, kept while the thread is (threads outlive connections, and
     * a direct buffer is slow to make).
     */
    private static final ThreadLocal<ByteBuffer> BUFFERS =
        ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(WRITE_CHUNK));

    private final SocketChannel channel;
    private ByteBuffer buffer; // taken at the first GET_PAGES: the other requests do without

    ChannelPageWriter(SocketChannel channel) {
      this.channel = channel;
    }

    void write(Pages p) throws IOException {
      if (buffer == null) {
        buffer = BUFFERS.get();
      }
      int n = p.indices().length;
      buffer.clear();
      buffer.putInt(answerLength(n));
      buffer.put((byte) PageProtocol.VERSION).put((byte) PageProtocol.PAGES);
      buffer.put((byte) PageProtocol.OK).putShort((short) n);
      for (int index : p.indices()) {
        if (buffer.remaining() < 4 + PageProtocol.HASH) {
          drain();
        }
        // Hashing here (once per frame; cached) is what lets a child check a page whose hash was
        // pending in its descriptor.
        buffer.putInt(index).put(p.table().sha256(index));
        ByteBuffer page = p.table().page(index);
        while (page.hasRemaining()) {
          if (!buffer.hasRemaining()) {
            drain();
          }
          int k = Math.min(buffer.remaining(), page.remaining());
          buffer.put(buffer.position(), page, page.position(), k);
          buffer.position(buffer.position() + k);
          page.position(page.position() + k);
        }
      }
      drain();
    }

    private void drain() throws IOException {
      buffer.flip();
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      buffer.clear();
    }
  }

  /** Whether {@code f} names a capability exported here and not expired: it is a child's. */
  private boolean namesExport(PageProtocol.Frame f) {
    if (f.payload().length < Capability.BYTES) {
      return false;
    }
    Export e = exports.get(Capability.of(java.util.Arrays.copyOf(f.payload(), Capability.BYTES)));
    return e != null && System.currentTimeMillis() <= e.expiresAtMillis();
  }

  /** The answer to {@code f}: its bytes, or the {@link Pages} to write. */
  private Object answer(PageProtocol.Frame f) {
    ByteBuffer p = ByteBuffer.wrap(f.payload());
    if (p.remaining() < Capability.BYTES) {
      return refuse(PageProtocol.BAD_REQUEST, "no capability");
    }
    byte[] capBytes = new byte[Capability.BYTES];
    p.get(capBytes);
    Capability cap = Capability.of(capBytes);
    Export e = exports.get(cap);
    if (e == null) {
      return refuse(PageProtocol.UNKNOWN_CAPABILITY, "unknown or released capability");
    }
    if (System.currentTimeMillis() > e.expiresAtMillis()) {
      // Kept until the next sweep, so that every request with it is told why.
      return refuse(PageProtocol.EXPIRED, "capability expired");
    }
    if (f.type() == PageProtocol.RELEASE) {
      exports.remove(cap);
      return new byte[] {PageProtocol.OK, 0, 0};
    }
    if (f.type() == PageProtocol.GET_MODULE && p.remaining() == 4) {
      return module(e.module(), p.getInt());
    }
    if (f.type() == PageProtocol.GET_OBJECTS) {
      return objects(e.objects(), p);
    }
    if (f.type() == PageProtocol.GET_HASHES && p.remaining() == 6) {
      return hashes(e.table(), p.getInt(), Short.toUnsignedInt(p.getShort()));
    }
    if (f.type() != PageProtocol.GET_PAGES || p.remaining() < 2) {
      return refuse(PageProtocol.BAD_REQUEST, "unknown request type " + f.type());
    }
    int count = Short.toUnsignedInt(p.getShort());
    if (count < 1 || count > PageProtocol.MAX_BATCH || p.remaining() != 4 * count) {
      return refuse(PageProtocol.BAD_REQUEST, "bad page count " + count);
    }
    int[] indices = new int[count];
    for (int i = 0; i < count; i++) {
      int index = p.getInt();
      if (index < 0 || index >= e.table().pages()) {
        return refuse(PageProtocol.NO_SUCH_PAGE, "page " + index + " is not in the descriptor");
      }
      indices[i] = index;
    }
    return new Pages(e.table(), indices);
  }

  private byte[] module(byte[] module, int offset) {
    if (module == null) {
      return refuse(PageProtocol.NO_SUCH_PAGE, "this descriptor has no module to serve");
    }
    if (offset < 0 || offset > module.length) {
      return refuse(
          PageProtocol.BAD_REQUEST, "module offset " + offset + " of " + module.length + " bytes");
    }
    int n = Math.min(PageProtocol.MAX_CHUNK, module.length - offset);
    return ByteBuffer.allocate(5 + n)
        .put((byte) PageProtocol.OK)
        .putInt(module.length)
        .put(module, offset, n)
        .array();
  }

  /**
   * The answer to GET_OBJECTS: each asked object in order from its offset (its header alone for
   * offset -1) until {@link PageProtocol#MAX_CHUNK} content bytes are spent. A large blob is read
   * from its start at each chunk (JGit's streams do not seek); a child asks for it chunk by chunk.
   */
  private byte[] objects(GitObjects objects, ByteBuffer p) {
    if (objects == null) {
      return refuse(PageProtocol.NO_SUCH_PAGE, "this descriptor has no files to serve");
    }
    int count = p.remaining() < 2 ? -1 : Short.toUnsignedInt(p.getShort());
    if (count < 1
        || count > PageProtocol.MAX_OBJECTS
        || p.remaining() != count * (PageProtocol.GIT_ID + 8)) {
      return refuse(PageProtocol.BAD_REQUEST, "bad object count " + count);
    }
    java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
    java.io.DataOutputStream out = new java.io.DataOutputStream(answer);
    long budget = PageProtocol.MAX_CHUNK;
    int answered = 0;
    try {
      out.writeByte(PageProtocol.OK);
      out.writeShort(0); // the count, set below
      for (int k = 0; k < count && (budget > 0 || answered == 0); k++) {
        byte[] id = new byte[PageProtocol.GIT_ID];
        p.get(id);
        long offset = p.getLong();
        GitObjects.Opened o = objects.open(id);
        if (o == null) {
          // The id is not repeated: it is the asker's, and only the position matters to it.
          return refuse(
              PageProtocol.NO_SUCH_PAGE, "object " + k + " of the request is not in the files");
        }
        try (java.io.InputStream in = o.content()) {
          if (offset < -1 || offset > o.size()) {
            return refuse(PageProtocol.BAD_REQUEST, "object " + k + ": offset out of bounds");
          }
          int n = offset < 0 ? 0 : (int) Math.min(budget, o.size() - offset);
          out.write(id);
          out.writeByte(o.type());
          out.writeLong(o.size());
          out.writeInt(n);
          if (n > 0) {
            in.skipNBytes(offset);
            byte[] b = in.readNBytes(n);
            if (b.length != n) {
              return refuse(PageProtocol.NO_SUCH_PAGE, "object " + k + " is shorter than its size");
            }
            out.write(b);
          }
          budget -= n;
          answered++;
        }
      }
    } catch (IOException e) {
      return refuse(PageProtocol.NO_SUCH_PAGE, "the files could not be read here");
    }
    byte[] a = answer.toByteArray();
    a[1] = (byte) (answered >>> 8);
    a[2] = (byte) answered;
    objectBytesServed.addAndGet(PageProtocol.MAX_CHUNK - budget);
    return a;
  }

  private byte[] hashes(PageTable table, int first, int count) {
    if (count < 1
        || count > PageProtocol.MAX_HASHES
        || first < 0
        || first > table.pages() - count) {
      return refuse(
          PageProtocol.NO_SUCH_PAGE,
          "pages "
              + first
              + ".."
              + (first + count - 1L)
              + " are not all in the descriptor ("
              + table.pages()
              + " pages)");
    }
    ByteBuffer b = ByteBuffer.allocate(3 + count * PageProtocol.HASH);
    b.put((byte) PageProtocol.OK).putShort((short) count);
    for (int i = first; i < first + count; i++) {
      b.put(table.sha256(i));
    }
    return b.array();
  }

  private byte[] refuse(int status, String message) {
    requestsRefused.incrementAndGet();
    return PageProtocol.error(status, message);
  }

  @Override
  public void close() throws IOException {
    socket.close();
    exports.clear();
    connectionThreads.shutdown(); // idle ones end now, busy ones when their connection does
    try {
      acceptor.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
