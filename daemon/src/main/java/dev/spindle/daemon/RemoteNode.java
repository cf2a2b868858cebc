package dev.spindle.daemon;

import dev.spindle.client.Api.DescriptorInfo;
import dev.spindle.fork.RemoteForks;
import dev.spindle.remote.Descriptor;
import dev.spindle.remote.DescriptorCodec;
import dev.spindle.remote.DescriptorException;
import dev.spindle.remote.DirectoryPageStore;
import dev.spindle.remote.PageServer;
import dev.spindle.remote.PageStore;
import dev.spindle.remote.RemoteFork;
import dev.spindle.remote.RemotePageSource;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.ToLongFunction;

/**
 * This node's part in remote fork: the page service that serves its prepared sandboxes' pages,
 * the fallback store their pages are uploaded to, the descriptors it holds for children, and the
 * page sources of the children it resumed (for the metrics).
 */
final class RemoteNode implements AutoCloseable {
  static final Duration DEFAULT_TTL = Duration.ofHours(1);
  /** Pages asked for per fault beyond the one touched: sequential touches then cost one round trip per 8. */
  static final int PREFETCH = 8;
  static final Duration PAGE_TIMEOUT = Duration.ofSeconds(5);

  private record Held(String id, String sandbox, Descriptor descriptor, CompletableFuture<Long> upload) {}

  private final PageServer server;
  private final PageStore store;
  private final RemoteForks forks;
  private final ExecutorService uploads = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "spindle-page-upload");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, Held> held = new ConcurrentHashMap<>();
  private final Queue<RemotePageSource> children = new ConcurrentLinkedQueue<>();
  private final SecureRandom random = new SecureRandom();

  private RemoteNode(PageServer server, PageStore store, RemoteForks forks) {
    this.server = server;
    this.store = store;
    this.forks = forks;
  }

  static RemoteNode start(RemoteOptions o, Path home, RemoteForks forks) throws IOException {
    Path dir = o.pageStore() != null ? o.pageStore() : home.resolve("pages");
    PageServer s = PageServer.start(new InetSocketAddress(o.pageHost(), o.pagePort()));
    return new RemoteNode(s, new DirectoryPageStore(dir), forks);
  }

  /** A prepared fork: its id here and the encoded descriptor. */
  record Prepared(String id, byte[] descriptor) {}

  /** Prepares {@code g} (its lock held by the caller): see {@link RemoteForks#prepare}. */
  Prepared prepare(Guest g, Duration ttl) throws IOException {
    String host = server.address().getAddress().getHostAddress();
    RemoteFork.Prepared p = forks.prepare(g.forked(), server, host, ttl, store, uploads);
    byte[] hex = new byte[6];
    random.nextBytes(hex);
    String id = "fd-" + HexFormat.of().formatHex(hex);
    held.put(id, new Held(id, g.id, p.descriptor(), p.upload()));
    return new Prepared(id, DescriptorCodec.encode(p.descriptor()));
  }

  /** Resumes a descriptor here; the child's pages come on first touch. */
  RemoteForks.Child resume(byte[] encoded) throws IOException {
    Descriptor d;
    try {
      d = DescriptorCodec.decode(encoded);
    } catch (DescriptorException e) {
      throw ApiError.badRequest("bad_descriptor", "field 'descriptor': " + e.getMessage());
    }
    if (d.expiresAtMillis() < System.currentTimeMillis()) {
      throw new ApiError(410, "descriptor_expired", "the descriptor expired at "
          + Instant.ofEpochMilli(d.expiresAtMillis()) + "; fork the sandbox again");
    }
    RemoteForks.Child c;
    try {
      c = forks.resume(d, store, PREFETCH, PAGE_TIMEOUT);
    } catch (dev.spindle.fork.SnapshotDamagedException e) {
      throw ApiError.badRequest("bad_descriptor", e.getMessage());
    }
    children.add(c.pages());
    return c;
  }

  /** Held descriptors, oldest expiry first; expired ones are released on the way. */
  List<DescriptorInfo> list() {
    long now = System.currentTimeMillis();
    held.values().removeIf(h -> {
      if (h.descriptor().expiresAtMillis() < now) {
        server.release(h.descriptor().capability());
        return true;
      }
      return false;
    });
    return held.values().stream()
        .sorted(Comparator.comparingLong(h -> h.descriptor().expiresAtMillis()))
        .map(h -> new DescriptorInfo(h.id(), h.sandbox(), h.descriptor().capability().toString(),
            h.descriptor().pages(), h.descriptor().nonZeroPages(), Instant.ofEpochMilli(h.descriptor().expiresAtMillis()).toString(),
            fallback(h.upload())))
        .toList();
  }

  /** The upload to the fallback store: {@code ready}, {@code uploading} or {@code failed: why}. */
  private static String fallback(CompletableFuture<Long> upload) {
    if (!upload.isDone()) {
      return "uploading";
    }
    return upload.isCompletedExceptionally()
        ? "failed: " + upload.exceptionNow().getMessage()
        : "ready";
  }

  /** Stops serving a descriptor's pages: children still fetching fall back to the store. */
  void release(String id) {
    Held h = held.remove(id);
    if (h == null) {
      throw ApiError.notFound("no descriptor '" + id + "' on this node");
    }
    server.release(h.descriptor().capability());
  }

  String address() {
    InetSocketAddress a = server.address();
    return a.getAddress().getHostAddress() + ":" + a.getPort();
  }

  void metrics(Metrics m) {
    m.gauge("spindle_remote_descriptors_held", held::size);
    m.gauge("spindle_remote_pages_served", server::pagesServed);
    m.gauge("spindle_remote_requests_refused", server::requestsRefused);
    m.gauge("spindle_remote_pages_fetched", () -> children(RemotePageSource.Stats::pagesFetched));
    m.gauge("spindle_remote_fallback_pages", () -> children(RemotePageSource.Stats::fallbackPages));
    m.gauge("spindle_remote_page_faults", () -> children(RemotePageSource.Stats::faults));
  }

  /** A sum over the children resumed here (a child's statistics outlive it: these are totals). */
  private long children(ToLongFunction<RemotePageSource.Stats> f) {
    long n = 0;
    for (RemotePageSource s : children) {
      n += f.applyAsLong(s.stats());
    }
    return n;
  }

  @Override
  public void close() {
    uploads.shutdownNow();
    try {
      server.close();
    } catch (IOException e) {
      // Closing: the socket closes with the process anyway.
    }
  }
}
