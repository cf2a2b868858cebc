package dev.spindle.remote;

import dev.spindle.memory.PageTable;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The pages half of a remote fork (the sandbox half is the fork module's {@code RemoteForks}), in
 * two steps. {@link #prepare} on the parent's node: describe the page table by hash and export it
 * on the page service (no page is copied; the table is immutable, the parent keeps running). {@link
 * #resume} on another node: a page table whose non-zero pages are all remote, fetched on first
 * touch.
 */
public final class RemotePages {
  private RemotePages() {}

  /**
   * A prepared fork: the descriptor to send, and the background work that follows it (hashing the
   * pages whose hash was pending, then saving pages and hash list to the store), which completes
   * with the number of pages written to the store.
   */
  public record Prepared(Descriptor descriptor, CompletableFuture<Long> upload) {}

  /**
   * Exports {@code table} on {@code server} and describes it, in a walk of the table: a page whose
   * hash is not known yet (written since it was last hashed) is marked pending rather than hashed
   * here, since hashing costs ~0.8 s per GiB on one core. On {@code background}, the pending pages
   * are then hashed (the page service answers with them from then on), and when {@code store} is
   * given, the pages (deduplicated by hash) and the full hash list are written there as the
   * fallback.
   */
  public static Prepared prepare(
      PageTable table,
      byte[] state,
      PageServer server,
      String advertisedHost,
      Duration ttl,
      PageStore store,
      Executor background) {
    return prepare(table, state, null, server, advertisedHost, ttl, store, background);
  }

  /**
   * As above, with the sandbox's Wasm {@code module} (or null): served under the descriptor's
   * capability to children whose node lacks it, and saved in the store by its SHA-256, so that
   * neither the descriptor nor a node that already has the module carries it again.
   */
  public static Prepared prepare(
      PageTable table,
      byte[] state,
      byte[] module,
      PageServer server,
      String advertisedHost,
      Duration ttl,
      PageStore store,
      Executor background) {
    return prepare(table, state, module, null, server, advertisedHost, ttl, store, background);
  }

  /**
   * As above, with the sandbox's files ({@code objects}, or null): served under the descriptor's
   * capability (GET_OBJECTS). Saving them to the store is the caller's, who knows what they are.
   */
  public static Prepared prepare(
      PageTable table,
      byte[] state,
      byte[] module,
      GitObjects objects,
      PageServer server,
      String advertisedHost,
      Duration ttl,
      PageStore store,
      Executor background) {
    byte[] hashes = new byte[table.pages() * Descriptor.HASH_BYTES];
    BitSet pending = table.knownSha256s(hashes);
    Capability cap = server.export(table, module, objects, ttl);
    InetSocketAddress a = server.address();
    Descriptor d =
        new Descriptor(
            table.pages(),
            hashes,
            pending,
            table.droppedSegments(),
            state,
            advertisedHost,
            a.getPort(),
            cap,
            System.currentTimeMillis() + ttl.toMillis());
    CompletableFuture<Long> upload =
        store == null && pending.isEmpty()
            ? CompletableFuture.completedFuture(0L)
            : CompletableFuture.supplyAsync(
                () -> hashAndUpload(d, table, module, store), background);
    return new Prepared(d, upload);
  }

  private static long hashAndUpload(Descriptor d, PageTable table, byte[] module, PageStore store) {
    byte[] all = d.pageHashes().clone();
    // Last page first: a child asks for the list from the first page on, and the page service
    // hashes what it is asked for; meeting in the middle, each frame is hashed once.
    for (int i = d.pendingHashes().previousSetBit(d.pages() - 1);
        i >= 0;
        i = d.pendingHashes().previousSetBit(i - 1)) {
      System.arraycopy(table.sha256(i), 0, all, i * Descriptor.HASH_BYTES, Descriptor.HASH_BYTES);
    }
    if (store == null) {
      return 0;
    }
    long written = 0;
    try {
      byte[] hash = new byte[Descriptor.HASH_BYTES];
      for (int i = 0; i < d.pages(); i++) {
        System.arraycopy(all, i * Descriptor.HASH_BYTES, hash, 0, Descriptor.HASH_BYTES);
        if (d.isZero(i) || store.contains(hash)) {
          continue;
        }
        byte[] page = new byte[PageTable.PAGE_SIZE];
        table.page(i).get(page);
        store.put(hash.clone(), page);
        written++;
      }
      if (module != null) {
        byte[] sha = Hashes.sha256(module);
        if (!store.contains(sha)) {
          store.put(sha, module);
        }
      }
      // Last: a child that finds the list may rely on every page being there.
      if (!d.pendingHashes().isEmpty()) {
        store.putHashes(d.id(), all);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return written;
  }

  /**
   * A child's page table, its source (for statistics, replay and release) and where its module
   * comes from if its node lacks it, from a descriptor alone.
   */
  public record Resumed(PageTable table, RemotePageSource source, RemoteModuleSource module) {}

  /**
   * The readahead bound to give {@link #resume} for the full adaptive readahead (1 turns it off).
   */
  public static final int READAHEAD = Readahead.MAX_WINDOW;

  /**
   * A child's table whose pages come from the parent named by {@code d} (else from {@code store}),
   * reading ahead up to {@code readahead} pages of a sequential reader (1: none).
   */
  public static Resumed resume(Descriptor d, PageStore store, int readahead, Duration timeout) {
    InetSocketAddress parent = new InetSocketAddress(d.host(), d.port());
    PageClient client = new PageClient(parent, (int) timeout.toMillis(), PageTable.PAGE_SIZE);
    client.connectAhead();
    PageClient background = new PageClient(parent, (int) timeout.toMillis(), PageTable.PAGE_SIZE);
    RemotePageSource source = new RemotePageSource(d, client, background, store, readahead);
    source.learnHashesInBackground();
    BitSet zero = new BitSet(d.pages());
    for (int i = 0; i < d.pages(); i++) {
      if (d.isZero(i)) {
        zero.set(i);
      }
    }
    return new Resumed(
        PageTable.restored(d.pages(), zero, d.droppedSegments(), source),
        source,
        new RemoteModuleSource(d, background, store));
  }
}
