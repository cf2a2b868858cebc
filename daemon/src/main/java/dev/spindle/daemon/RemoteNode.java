package dev.spindle.daemon;

import dev.spindle.client.Api.DescriptorInfo;
import dev.spindle.fork.RemoteForks;
import dev.spindle.remote.Descriptor;
import dev.spindle.remote.DescriptorCodec;
import dev.spindle.remote.DescriptorException;
import dev.spindle.remote.DirectoryPageStore;
import dev.spindle.remote.PageServer;
import dev.spindle.remote.PageStore;
import dev.spindle.remote.PageStores;
import dev.spindle.remote.RemotePageSource;
import dev.spindle.remote.RemotePages;
import dev.spindle.store.SpindleHome;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * This node's part in remote fork: the page service that serves its prepared sandboxes' pages, the
 * fallback store their pages are uploaded to, the descriptors it holds for children, and the page
 * sources of the children it resumed (for the metrics).
 */
final class RemoteNode implements AutoCloseable {
  static final Duration DEFAULT_TTL = Duration.ofHours(1);

  /**
   * The most pages read ahead of a child's sequential touches (the readahead adapts below it:
   * random touches move only the pages touched).
   */
  static final int PREFETCH = RemotePages.READAHEAD;

  static final Duration PAGE_TIMEOUT = Duration.ofSeconds(5);

  private record Held(
      String id, String sandbox, Descriptor descriptor, CompletableFuture<Long> upload) {}

  private final PageServer server;

  /**
   * The page service's host as descriptors name it (--page-advertise, else the bound address); null
   * when it listens on every address and none was given, {@link #noAddress} saying so.
   */
  private final String advertisedHost;

  private final String noAddress;
  private final PageStore store;
  private final RemoteForks forks;
  private final ExecutorService uploads =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "spindle-page-upload");
            t.setDaemon(true);
            return t;
          });
  private final Map<String, Held> held = new ConcurrentHashMap<>();

  /** Page sources of resumed children still held, by sandbox id; see {@link #totals}. */
  private final Map<String, RemotePageSource> children = new ConcurrentHashMap<>();

  /** Totals of children already deleted: a source holds its descriptor, so it is not kept. */
  private long retiredFetched;

  private long retiredFallback;
  private long retiredFaults;
  private long retiredFileBytes;
  private long retiredFileObjects;
  private long retiredFileFallback;
  private final SecureRandom random = new SecureRandom();
  private final NodeKey key;
  private final NodePolicy policy;

  private RemoteNode(
      PageServer server,
      String advertisedHost,
      String noAddress,
      PageStore store,
      RemoteForks forks,
      NodeKey key,
      NodePolicy policy) {
    this.server = server;
    this.advertisedHost = advertisedHost;
    this.noAddress = noAddress;
    this.store = store;
    this.forks = forks;
    this.key = key;
    this.policy = policy;
  }

  static RemoteNode start(
      RemoteOptions o, SpindleHome home, RemoteForks forks, NodeKey key, NodePolicy policy)
      throws IOException {
    PageStore store;
    try {
      store =
          o.pageStore() != null
              ? PageStores.open(o.pageStore(), System.getenv())
              : new DirectoryPageStore(home.pages());
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    PageServer server = PageServer.start(new InetSocketAddress(o.pageHost(), o.pagePort()));
    String advertised;
    String why = null;
    try {
      advertised = o.advertisedHost(server.address());
    } catch (IOException e) {
      // The node serves everything else; only preparing a fork needs an address to name.
      advertised = null;
      why = e.getMessage();
    }
    return new RemoteNode(server, advertised, why, store, forks, key, policy);
  }

  /** A prepared fork: its id here and the encoded descriptor. */
  record Prepared(String id, byte[] descriptor) {}

  /** Prepares {@code g} (its lock held by the caller): see {@link RemoteForks#prepare}. */
  Prepared prepare(NodeSandbox g, Duration ttl) throws IOException {
    if (advertisedHost == null) {
      throw ApiError.conflict("no_page_address", "this node cannot prepare forks: " + noAddress);
    }
    RemotePages.Prepared p = forks.prepare(g.forked(), server, advertisedHost, ttl, store, uploads);
    byte[] hex = new byte[6];
    random.nextBytes(hex);
    String id = "fd-" + HexFormat.of().formatHex(hex);
    held.put(id, new Held(id, g.id, p.descriptor(), p.upload()));
    return new Prepared(id, DescriptorSeal.seal(key, DescriptorCodec.encode(p.descriptor())));
  }

  /** Counts {@code pages} (a resumed child's) in the metrics while sandbox {@code id} is held. */
  void adopted(String id, RemotePageSource pages) {
    children.put(id, pages);
  }

  /** This node's public key, X.509-encoded: what its peers check its descriptors' seals with. */
  byte[] publicKey() {
    return key.publicKey();
  }

  NodePolicy policy() {
    return policy;
  }

  /**
   * Resumes a sealed descriptor here, once its seal checks (this node's own or a peer's); the
   * child's pages come on first touch.
   */
  RemoteForks.Child resume(byte[] sealed, boolean replay) throws IOException {
    byte[] encoded = DescriptorSeal.open(sealed, policy::trustsSigner).descriptor();
    Descriptor d;
    try {
      d = DescriptorCodec.decode(encoded);
    } catch (DescriptorException e) {
      throw ApiError.badRequest("bad_descriptor", "field 'descriptor': " + e.getMessage());
    }
    if (d.expiresAtMillis() < System.currentTimeMillis()) {
      throw new ApiError(
          410,
          "descriptor_expired",
          "the descriptor expired at "
              + Instant.ofEpochMilli(d.expiresAtMillis())
              + "; fork the sandbox again");
    }
    RemoteForks.Child c;
    try {
      c = forks.resume(d, store, PREFETCH, PAGE_TIMEOUT, replay);
    } catch (dev.spindle.fork.SnapshotDamagedException e) {
      throw ApiError.badRequest("bad_descriptor", e.getMessage());
    }
    return c;
  }

  /**
   * Held descriptors, oldest expiry first; expired ones are released on the way, and those their
   * child released (it ended) are forgotten.
   */
  List<DescriptorInfo> list() {
    long now = System.currentTimeMillis();
    held.values()
        .removeIf(
            h -> {
              if (h.descriptor().expiresAtMillis() < now) {
                server.release(h.descriptor().capability());
                return true;
              }
              return !server.isExported(h.descriptor().capability());
            });
    return held.values().stream()
        .sorted(Comparator.comparingLong(h -> h.descriptor().expiresAtMillis()))
        .map(
            h ->
                new DescriptorInfo(
                    h.id(),
                    h.sandbox(),
                    h.descriptor().capability().toString(),
                    h.descriptor().pages(),
                    h.descriptor().nonZeroPages(),
                    Instant.ofEpochMilli(h.descriptor().expiresAtMillis()).toString(),
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
    return advertisedHost != null
        ? advertisedHost + ":" + server.address().getPort()
        : server.address().getAddress().getHostAddress()
            + ":"
            + server.address().getPort()
            + " (no --page-advertise)";
  }

  /**
   * Gauges; the children's are totals over this node's life, children no longer in {@code held}
   * (the node's sandboxes) folded into retired totals at each scrape.
   */
  void metrics(Metrics m, Predicate<String> held) {
    m.gauge("spindle_remote_descriptors_held", () -> list().size());
    m.gauge("spindle_remote_pages_served", server::pagesServed);
    m.gauge("spindle_remote_requests_refused", server::requestsRefused);
    m.gauge("spindle_remote_pages_fetched", () -> totals(held).pagesFetched());
    m.gauge("spindle_remote_fallback_pages", () -> totals(held).fallbackPages());
    m.gauge("spindle_remote_page_faults", () -> totals(held).faults());
    // Files (Git objects) of forked sandboxes: served to children here, fetched by children here.
    m.gauge("spindle_remote_file_bytes_served", server::objectBytesServed);
    m.gauge("spindle_remote_file_bytes_fetched", () -> fileTotals(held)[0]);
    m.gauge("spindle_remote_file_objects_fetched", () -> fileTotals(held)[1]);
    m.gauge("spindle_remote_file_fallback_objects", () -> fileTotals(held)[2]);
  }

  /** Content bytes, objects, and objects from the store, of children's files fetched here. */
  private synchronized long[] fileTotals(Predicate<String> held) {
    totals(held); // retires the children no longer held
    long[] t = {retiredFileBytes, retiredFileObjects, retiredFileFallback};
    for (RemotePageSource s : children.values()) {
      t[0] += s.objects().bytesFetched();
      t[1] += s.objects().objectsFetched();
      t[2] += s.objects().fallbackObjects();
    }
    return t;
  }

  @SuppressWarnings(
      "ModifyCollectionInEnhancedForLoop") // a ConcurrentHashMap: removal while iterating is safe
  private synchronized RemotePageSource.Stats totals(Predicate<String> held) {
    long fetched = retiredFetched;
    long fallback = retiredFallback;
    long faults = retiredFaults;
    for (var e : children.entrySet()) {
      RemotePageSource.Stats s = e.getValue().stats();
      if (!held.test(e.getKey())) {
        children.remove(e.getKey());
        retiredFetched += s.pagesFetched();
        retiredFallback += s.fallbackPages();
        retiredFaults += s.faults();
        retiredFileBytes += e.getValue().objects().bytesFetched();
        retiredFileObjects += e.getValue().objects().objectsFetched();
        retiredFileFallback += e.getValue().objects().fallbackObjects();
      }
      fetched += s.pagesFetched();
      fallback += s.fallbackPages();
      faults += s.faults();
    }
    return new RemotePageSource.Stats(
        faults, fetched, fetched * dev.spindle.memory.PageTable.PAGE_SIZE, fallback, 0);
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
