package dev.spindle.memory.bench;

import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * Does backing shared pages with {@code mmap(MAP_PRIVATE)} of a snapshot file pay off against
 * byte[] pages? Measures, on a 64 MiB memory: making a child (a page-table copy vs mapping the file
 * privately), reading all of it, and the first writes after the fork, sparse (one i32 per 4 KiB)
 * and dense (every i32); each warmed up {@value #WARMUP} times, best of {@value #ROUNDS}. Findings
 * in memory/DESIGN-NOTES.md.
 *
 * <p>Run like {@link PagedMemoryBench}, with main class {@code
 * dev.spindle.memory.bench.MmapVsArrayBench} and {@code --enable-native-access=ALL-UNNAMED}.
 */
public final class MmapVsArrayBench {
  private static final int PAGES = 1024;
  private static final long BYTES = PAGES * 65536L;
  private static final ValueLayout.OfInt INT =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final int ROUNDS = 7;
  private static final int WARMUP = 5;

  private static volatile long sink;

  private MmapVsArrayBench() {}

  public static void main(String[] args) throws IOException {
    Path file = Files.createTempFile("spindle-snapshot", ".bin");
    try {
      byte[] data = new byte[(int) BYTES];
      new Random(1).nextBytes(data);
      Files.write(file, data);
      var limits = new MemoryLimits(PAGES, PAGES);
      var parent = new PagedMemory(limits);
      parent.write(0, data);
      PageTable table = parent.snapshot();
      data = null;

      System.out.printf(
          "%-40s %12s %12s%n",
          "64 MiB, best of " + ROUNDS + " (ms)", "byte[] pages", "mmap PRIVATE");
      row(
          "make a child",
          () -> sink = PagedMemory.branch(limits, table).pages(),
          () -> withMapping(file, m -> sink = m.byteSize()));
      row(
          "child reads every i32 (first pass)",
          () -> readAll(child(limits, table)),
          () -> withMapping(file, MmapVsArrayBench::readAll));
      row(
          "child writes one i32 per 4 KiB",
          () -> writeEvery(child(limits, table), 4096),
          () -> withMapping(file, m -> writeEvery(m, 4096)));
      row(
          "child writes every i32",
          () -> writeEvery(child(limits, table), 4),
          () -> withMapping(file, m -> writeEvery(m, 4)));
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static PagedMemory child(MemoryLimits limits, PageTable table) {
    return PagedMemory.branch(limits, table);
  }

  private interface Body {
    void run() throws IOException;
  }

  private interface SegmentBody {
    void run(MemorySegment m);
  }

  private static void withMapping(Path file, SegmentBody body) throws IOException {
    try (var ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        Arena arena = Arena.ofConfined()) {
      body.run(ch.map(FileChannel.MapMode.PRIVATE, 0, BYTES, arena));
    }
  }

  private static void row(String name, Body arrays, Body mmap) throws IOException {
    System.out.printf("%-40s %12.2f %12.2f%n", name, best(arrays), best(mmap));
  }

  private static double best(Body body) throws IOException {
    for (int i = 0; i < WARMUP; i++) {
      body.run();
    }
    long best = Long.MAX_VALUE;
    for (int i = 0; i < ROUNDS; i++) {
      long t0 = System.nanoTime();
      body.run();
      best = Math.min(best, System.nanoTime() - t0);
    }
    return best / 1e6;
  }

  private static void readAll(PagedMemory m) {
    long s = 0;
    for (int a = 0; a < BYTES; a += 4) {
      s += m.readInt(a);
    }
    sink = s;
  }

  private static void readAll(MemorySegment m) {
    long s = 0;
    for (long a = 0; a < BYTES; a += 4) {
      s += m.get(INT, a);
    }
    sink = s;
  }

  private static void writeEvery(PagedMemory m, int stride) {
    for (int a = 0; a < BYTES; a += stride) {
      m.writeI32(a, a);
    }
  }

  private static void writeEvery(MemorySegment m, int stride) {
    for (long a = 0; a < BYTES; a += stride) {
      m.set(INT, a, (int) a);
    }
  }
}
