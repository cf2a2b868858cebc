package dev.spindle.memory;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * Random operations on a Chicory {@link Memory} and their comparable outcomes, for differential
 * tests of {@link PagedMemory} against Chicory's {@link ByteArrayMemory}.
 */
final class MemoryOps {
  static final int SIZE = Memory.PAGE_SIZE;

  private MemoryOps() {}

  /**
   * One operation; its outcome is a comparable value or a {@link Thrown}. The model runs on the
   * reference memory: the same action, except for atomics (see {@link #atomics}).
   */
  record Op(String description, Function<Memory, Object> action, Function<Memory, Object> model) {
    Object apply(Memory memory) {
      return outcome(action, memory);
    }

    Object applyModel(Memory reference) {
      return outcome(model, reference);
    }

    private static Object outcome(Function<Memory, Object> f, Memory memory) {
      try {
        return f.apply(memory);
      } catch (RuntimeException e) {
        return Thrown.of(e);
      }
    }

    @Override
    public String toString() {
      return description;
    }
  }

  /**
   * An exception as the tests compare it: its type, and whether its message starts with the bounds
   * prefix that spec tests match ("out of bounds memory access").
   */
  record Thrown(Class<?> type, boolean outOfBounds) {
    static Thrown of(RuntimeException e) {
      return new Thrown(e.getClass(), String.valueOf(e.getMessage()).startsWith(Bounds.PREFIX));
    }
  }

  /** Every byte of a memory, comparable with {@code equals}. */
  static ByteBuffer contents(Memory memory) {
    return ByteBuffer.wrap(memory.readBytes(0, memory.pages() * SIZE));
  }

  /** A {@link ByteArrayMemory} holding the same bytes as {@code memory}. */
  static ByteArrayMemory copyOf(Memory memory) {
    var copy = new ByteArrayMemory(new MemoryLimits(memory.pages(), memory.maximumPages()));
    copy.write(0, memory.readBytes(0, memory.pages() * SIZE));
    return copy;
  }

  /**
   * Addresses biased to page boundaries (where the slow paths live) and the end of a memory of up
   * to {@code maxPages} pages, plus uniform and arbitrary (negative, huge) ones.
   */
  static Arbitrary<Integer> addresses(int maxPages) {
    Arbitrary<Integer> nearBoundary =
        Combinators.combine(
                Arbitraries.integers().between(0, maxPages), Arbitraries.integers().between(-9, 9))
            .as((page, delta) -> page * SIZE + delta);
    return weighted(
        new Choice<>(6, nearBoundary),
        new Choice<>(3, Arbitraries.integers().between(0, maxPages * SIZE)),
        new Choice<>(1, Arbitraries.integers()));
  }

  /** Byte counts for bulk operations: small, a few pages, sometimes negative. */
  static Arbitrary<Integer> lengths() {
    return weighted(
        new Choice<>(5, Arbitraries.integers().between(0, 40)),
        new Choice<>(3, Arbitraries.integers().between(0, 3 * SIZE)),
        new Choice<>(1, Arbitraries.of(SIZE - 1, SIZE, SIZE + 1, 2 * SIZE)),
        new Choice<>(1, Arbitraries.integers().between(-3, -1)));
  }

  /** Any operation of the {@link Memory} interface except data segments. */
  static Arbitrary<Op> ops(int maxPages) {
    Arbitrary<Integer> addr = addresses(maxPages);
    return weighted(
        new Choice<>(6, typedReads(addr)),
        new Choice<>(6, typedWrites(addr)),
        new Choice<>(3, bulk(addr)),
        new Choice<>(2, atomics(maxPages)),
        new Choice<>(
            1,
            Arbitraries.integers().between(-1, 2).map(n -> op("grow(" + n + ")", m -> m.grow(n)))),
        new Choice<>(1, Arbitraries.just(op("zero()", m -> run(m::zero)))));
  }

  static Op op(String description, Function<Memory, Object> action) {
    return new Op(description, action, action);
  }

  private static Object run(Runnable r) {
    r.run();
    return "ok";
  }

  private static Arbitrary<Op> typedReads(Arbitrary<Integer> addr) {
    Arbitrary<String> names =
        Arbitraries.of(
            "read",
            "readShort",
            "readU16",
            "readInt",
            "readLong",
            "readF32",
            "readFloat",
            "readF64",
            "readDouble",
            "readU8",
            "readI8",
            "readI16",
            "readI32",
            "readU32",
            "readI64");
    return Combinators.combine(names, addr)
        .as((name, a) -> op(name + "(" + a + ")", m -> typedRead(m, name, a)));
  }

  private static Object typedRead(Memory m, String name, int a) {
    return switch (name) {
      case "read" -> m.read(a);
      case "readShort" -> m.readShort(a);
      case "readU16" -> m.readU16(a);
      case "readInt" -> m.readInt(a);
      case "readLong" -> m.readLong(a);
      case "readF32" -> m.readF32(a);
      case "readFloat" -> Float.floatToRawIntBits(m.readFloat(a));
      case "readF64" -> m.readF64(a);
      case "readDouble" -> Double.doubleToRawLongBits(m.readDouble(a));
      case "readU8" -> m.readU8(a);
      case "readI8" -> m.readI8(a);
      case "readI16" -> m.readI16(a);
      case "readI32" -> m.readI32(a);
      case "readU32" -> m.readU32(a);
      case "readI64" -> m.readI64(a);
      default -> throw new AssertionError(name);
    };
  }

  private static Arbitrary<Op> typedWrites(Arbitrary<Integer> addr) {
    Arbitrary<String> names =
        Arbitraries.of("writeByte", "writeShort", "writeI32", "writeLong", "writeF32", "writeF64");
    Arbitrary<Long> values =
        weighted(
            new Choice<>(4, Arbitraries.longs()),
            new Choice<>(1, Arbitraries.of(0L, -1L, 0x7FC0_0001L, 0x7FF0_0000_0000_0001L)));
    return Combinators.combine(names, addr, values)
        .as(
            (name, a, v) ->
                op(name + "(" + a + ", " + v + ")", m -> run(() -> typedWrite(m, name, a, v))));
  }

  private static void typedWrite(Memory m, String name, int a, long v) {
    switch (name) {
      case "writeByte" -> m.writeByte(a, (byte) v);
      case "writeShort" -> m.writeShort(a, (short) v);
      case "writeI32" -> m.writeI32(a, (int) v);
      case "writeLong" -> m.writeLong(a, v);
      case "writeF32" -> m.writeF32(a, Float.intBitsToFloat((int) v));
      case "writeF64" -> m.writeF64(a, Double.longBitsToDouble(v));
      default -> throw new AssertionError(name);
    }
  }

  private static Arbitrary<Op> bulk(Arbitrary<Integer> addr) {
    Arbitrary<Integer> len = lengths();
    Arbitrary<Byte> fillByte =
        weighted(new Choice<>(1, Arbitraries.just((byte) 0)), new Choice<>(1, Arbitraries.bytes()));
    Arbitrary<Op> write =
        Combinators.combine(addr, len, Arbitraries.integers().between(-2, 5), Arbitraries.longs())
            .as(
                (a, n, slack, seed) -> {
                  byte[] data = randomBytes(Math.max(0, n) + Math.max(0, slack), seed);
                  int offset = Math.max(-1, slack / 2);
                  return op(
                      "write(" + a + ", byte[" + data.length + "], " + offset + ", " + n + ")",
                      m -> run(() -> m.write(a, data, offset, n)));
                });
    Arbitrary<Op> read =
        Combinators.combine(addr, len)
            .as(
                (a, n) ->
                    op("readBytes(" + a + ", " + n + ")", m -> ByteBuffer.wrap(m.readBytes(a, n))));
    Arbitrary<Op> copy =
        Combinators.combine(addr, addr, len)
            .as(
                (d, s, n) ->
                    op("copy(" + d + ", " + s + ", " + n + ")", m -> run(() -> m.copy(d, s, n))));
    Arbitrary<Op> fill =
        Combinators.combine(fillByte, addr, len)
            .as(
                (b, from, n) ->
                    op(
                        "fill(" + b + ", " + from + ", " + (from + n) + ")",
                        m -> run(() -> m.fill(b, from, from + n))));
    Arbitrary<Op> fillPages =
        Combinators.combine(
                fillByte,
                Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(1, 3))
            .as(
                (b, page, n) ->
                    op(
                        "fill(" + b + ", page " + page + ", " + n + " pages)",
                        m -> run(() -> m.fill(b, page * SIZE, (page + n) * SIZE))));
    Arbitrary<Integer> page = Arbitraries.integers().between(0, 4);
    Arbitrary<Op> copyPages =
        Combinators.combine(
                page,
                page,
                Arbitraries.integers().between(1, 2),
                Arbitraries.integers().between(-1, 1))
            .as(
                (d, s, n, skew) ->
                    op(
                        "copy(page " + d + ", page " + s + " + " + skew + ", " + n + " pages)",
                        m -> run(() -> m.copy(d * SIZE, s * SIZE + skew, n * SIZE))));
    return Arbitraries.oneOf(write, read, copy, copyPages, fill, fillPages);
  }

  /**
   * Atomic operations at aligned addresses, as Wasm requires (misaligned ones trap earlier). Their
   * model is the plain read-modify-write they mean, not {@code ByteArrayMemory}'s atomics: on JDK
   * 25 byte-array view VarHandles support no volatile or atomic access mode, so Chicory 1.7.5's
   * {@code ByteArrayMemory} falls back to a monitor map that exists only for shared memories and
   * turns the resulting NullPointerException into "out of bounds memory access" for every atomic on
   * a non-shared memory (checked in {@code ChicoryQuirksTest}).
   */
  private static Arbitrary<Op> atomics(int maxPages) {
    Arbitrary<String> names =
        Arbitraries.of(
            "atomicReadInt",
            "atomicWriteLong",
            "atomicAddInt",
            "atomicCmpxchgLong",
            "atomicXchgShort",
            "atomicOrByte",
            "atomicReadLong",
            "atomicAndShort");
    Arbitrary<Integer> aligned =
        Arbitraries.integers().between(0, maxPages * SIZE / 8).map(i -> i * 8 - 8);
    return Combinators.combine(names, aligned, Arbitraries.longs())
        .as(
            (name, a, v) ->
                new Op(
                    name + "(" + a + ", " + v + ")",
                    m -> atomic(m, name, a, v),
                    m -> atomicModel(m, name, a, v)));
  }

  private static Object atomic(Memory m, String name, int a, long v) {
    return switch (name) {
      case "atomicReadInt" -> m.atomicReadInt(a);
      case "atomicWriteLong" -> run(() -> m.atomicWriteLong(a, v));
      case "atomicAddInt" -> m.atomicAddInt(a, (int) v);
      case "atomicCmpxchgLong" -> m.atomicCmpxchgLong(a, v & 1, v);
      case "atomicXchgShort" -> m.atomicXchgShort(a, (short) v);
      case "atomicOrByte" -> m.atomicOrByte(a, (byte) v);
      case "atomicReadLong" -> m.atomicReadLong(a);
      case "atomicAndShort" -> m.atomicAndShort(a, (short) v);
      default -> throw new AssertionError(name);
    };
  }

  private static Object atomicModel(Memory m, String name, int a, long v) {
    return switch (name) {
      case "atomicReadInt" -> m.readInt(a);
      case "atomicWriteLong" -> run(() -> m.writeLong(a, v));
      case "atomicAddInt" -> {
        int old = m.readInt(a);
        m.writeI32(a, old + (int) v);
        yield old;
      }
      case "atomicCmpxchgLong" -> {
        long old = m.readLong(a);
        if (old == (v & 1)) {
          m.writeLong(a, v);
        }
        yield old;
      }
      case "atomicXchgShort" -> {
        short old = m.readShort(a);
        m.writeShort(a, (short) v);
        yield old;
      }
      case "atomicOrByte" -> {
        byte old = m.read(a);
        m.writeByte(a, (byte) (old | v));
        yield old;
      }
      case "atomicReadLong" -> m.readLong(a);
      case "atomicAndShort" -> {
        short old = m.readShort(a);
        m.writeShort(a, (short) (old & v));
        yield old;
      }
      default -> throw new AssertionError(name);
    };
  }

  static byte[] randomBytes(int n, long seed) {
    byte[] data = new byte[n];
    new java.util.Random(seed).nextBytes(data);
    return data;
  }

  /** One weighted alternative of {@link #weighted}. */
  record Choice<T>(int weight, Arbitrary<T> arbitrary) {}

  /** {@link Arbitraries#frequencyOf} with Java's type inference on its side. */
  @SafeVarargs
  static <T> Arbitrary<T> weighted(Choice<T>... choices) {
    var tuples = new ArrayList<Tuple.Tuple2<Integer, Arbitrary<T>>>();
    for (Choice<T> c : choices) {
      tuples.add(Tuple.of(c.weight(), c.arbitrary()));
    }
    return Arbitraries.frequencyOf(tuples);
  }
}
