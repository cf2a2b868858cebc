package dev.spindle.remote;

import java.util.Arrays;
import java.util.BitSet;

/**
 * A resumed child's page hashes as known now: the descriptor's, then the ones it left pending as
 * they are learnt (from a page the parent sent, a hash list from the parent or the store). Safe for
 * the fault path and the background threads at once.
 */
final class PageHashes {
  private static final int HASH = Descriptor.HASH_BYTES;

  private final byte[] hashes;
  private final BitSet pending;

  PageHashes(Descriptor d) {
    // Only pending entries are ever written: with none, the descriptor's array is shared (a copy
    // is 512 KiB at 1 GiB, on the way from resume to the first access).
    this.hashes = d.pendingHashes().isEmpty() ? d.pageHashes() : d.pageHashes().clone();
    this.pending = (BitSet) d.pendingHashes().clone();
  }

  /** The first page whose hash is pending, or -1. */
  synchronized int nextPending() {
    return pending.nextSetBit(0);
  }

  /** Pages whose hash the child has not learnt yet. */
  synchronized int pendingCount() {
    return pending.cardinality();
  }

  /** Takes the hashes of pages {@code first..} from {@code list}, for the pages still pending. */
  synchronized void learn(int first, byte[] list) {
    int count = list.length / HASH;
    for (int i = pending.nextSetBit(first);
        i >= 0 && i < first + count;
        i = pending.nextSetBit(i + 1)) {
      System.arraycopy(list, (i - first) * HASH, hashes, i * HASH, HASH);
      pending.clear(i);
    }
  }

  /** Takes {@code h} as page {@code index}'s hash if that is still pending. */
  synchronized void learnOne(int index, byte[] h) {
    if (pending.get(index)) {
      System.arraycopy(h, 0, hashes, index * HASH, HASH);
      pending.clear(index);
    }
  }

  /** Page {@code i}'s hash, or null while pending. */
  synchronized byte[] known(int i) {
    return pending.get(i) ? null : Arrays.copyOfRange(hashes, i * HASH, (i + 1) * HASH);
  }
}
