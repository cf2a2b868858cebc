package dev.spindle.memory;

import com.dylibso.chicory.runtime.ConstantEvaluators;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.UninstantiableException;
import com.dylibso.chicory.wasm.types.ActiveDataSegment;
import com.dylibso.chicory.wasm.types.DataSegment;
import com.dylibso.chicory.wasm.types.PassiveDataSegment;
import java.util.BitSet;

/**
 * A memory's data segments: applies the active ones at instantiation, serves the passive ones to
 * {@code memory.init}, and remembers which were dropped ({@code data.drop}), since that is
 * guest-visible state a snapshot must carry. The module's segment array is never modified, so
 * restoring an older snapshot can "undrop" a segment.
 */
final class DataSegments {
  /** Writes a segment's bytes; the memory's bulk write. */
  @FunctionalInterface
  interface Writer {
    void write(int addr, byte[] data, int offset, int size);
  }

  private DataSegment[] segments = new DataSegment[0];
  private BitSet dropped = new BitSet();

  /**
   * Records the module's segments and, if {@code apply}, writes the active segments of memory
   * {@code memoryIndex}, checking each against {@code limit} bytes first as Chicory does ({@link
   * UninstantiableException}).
   */
  void initialize(
      Instance instance,
      DataSegment[] moduleSegments,
      int memoryIndex,
      int limit,
      boolean apply,
      Writer writer) {
    segments = moduleSegments == null ? new DataSegment[0] : moduleSegments;
    if (!apply) {
      return;
    }
    for (DataSegment s : segments) {
      if (s instanceof ActiveDataSegment active) {
        if (active.index() != memoryIndex) {
          continue;
        }
        byte[] data = active.data();
        long[] offset =
            ConstantEvaluators.computeConstantValue(instance, active.offsetInstructions());
        Bounds.check((int) offset[0], data.length, limit, UninstantiableException::new);
        writer.write((int) offset[0], data, 0, data.length);
      } else if (!(s instanceof PassiveDataSegment)) {
        throw new ChicoryException("Data segment should be active or passive: " + s);
      }
    }
  }

  /** Segment {@code id} as {@code memory.init} sees it: empty once dropped. */
  DataSegment segment(int id) {
    DataSegment s = segments[id];
    return dropped.get(id) ? PassiveDataSegment.EMPTY : s;
  }

  void drop(int id) {
    if (id < 0 || id >= segments.length) {
      // The exception Chicory's memories throw for an unknown segment.
      throw new ArrayIndexOutOfBoundsException(
          "data segment " + id + " out of bounds for length " + segments.length);
    }
    dropped.set(id);
  }

  BitSet dropped() {
    return (BitSet) dropped.clone();
  }

  void restoreDropped(BitSet snapshotDropped) {
    dropped = (BitSet) snapshotDropped.clone();
  }
}
