package dev.spindle.remote;

import dev.spindle.memory.PageState;
import dev.spindle.memory.PageTable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Remote fork in two steps. {@link #prepare} on the parent's node: hash the page table into a
 * descriptor and export it on the page service (no page is copied; the table is immutable, the
 * parent keeps running). {@link #resume} on another node: a page table whose non-zero pages are
 * all remote, fetched on first touch.
 */
public final class RemoteFork {
  private RemoteFork() {}

  /** A prepared fork: the descriptor to send, and the upload of its pages to the store. */
  public record Prepared(Descriptor descriptor, CompletableFuture<Long> upload) {}

  /**
   * Exports {@code table} on {@code server} and describes it. When {@code store} is given, the
   * pages are also written there in the background (deduplicated by hash) as the fallback.
   */
  public static Prepared prepare(PageTable table, byte[] state, PageServer server, String advertisedHost,
      Duration ttl, PageStore store, Executor background) {
    byte[] hashes = new byte[table.pages() * Descriptor.HASH_BYTES];
    for (int i = 0; i < table.pages(); i++) {
      if (table.state(i) != PageState.ZERO) {
        System.arraycopy(table.sha256(i), 0, hashes, i * Descriptor.HASH_BYTES, Descriptor.HASH_BYTES);
      }
    }
    Capability cap = server.export(table, ttl);
    InetSocketAddress a = server.address();
    Descriptor d = new Descriptor(table.pages(), hashes, table.droppedSegments(), state,
        advertisedHost, a.getPort(), cap, System.currentTimeMillis() + ttl.toMillis());
    CompletableFuture<Long> upload = store == null ? CompletableFuture.completedFuture(0L)
        : CompletableFuture.supplyAsync(() -> upload(d, table, store), background);
    return new Prepared(d, upload);
  }

  private static long upload(Descriptor d, PageTable table, PageStore store) {
    long written = 0;
    try {
      for (int i = 0; i < d.pages(); i++) {
        if (d.isZero(i) || store.contains(d.hash(i))) {
          continue;
        }
        byte[] page = new byte[PageTable.PAGE_SIZE];
        table.page(i).get(page);
        store.put(d.hash(i), page);
        written++;
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return written;
  }

  /** A child's page table and its source (for statistics), from a descriptor alone. */
  public record Resumed(PageTable table, RemotePageSource source) {}

  public static Resumed resume(Descriptor d, PageStore store, int prefetchWindow, Duration timeout) {
    PageClient client = new PageClient(new InetSocketAddress(d.host(), d.port()),
        (int) timeout.toMillis(), PageTable.PAGE_SIZE);
    RemotePageSource source = new RemotePageSource(d, client, store, prefetchWindow);
    BitSet zero = new BitSet(d.pages());
    for (int i = 0; i < d.pages(); i++) {
      if (d.isZero(i)) {
        zero.set(i);
      }
    }
    return new Resumed(PageTable.restored(d.pages(), zero, d.droppedSegments(), source), source);
  }
}
