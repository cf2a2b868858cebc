package dev.spindle.sandbox;

import java.util.Arrays;
import java.util.List;

/**
 * What a Wasm instance holds outside its linear memory, as plain values: the mutable globals it
 * defines (C's {@code __stack_pointer} among them), its tables of function references, and which
 * element segments it has dropped. With the memory's page table and the {@link
 * dev.spindle.sandbox.wasi.WasiState}, it is all a snapshot needs to resume the instance elsewhere.
 *
 * <p>Function references are function indices of the same module: a table entry that points into
 * another instance cannot be captured (WASI modules import functions only from the host, so their
 * tables never do).
 *
 * @param globals the defined mutable globals, by index
 * @param tables the defined tables, by index
 * @param droppedElements indices of element segments dropped by {@code elem.drop}
 */
public record InstanceState(
    List<Global> globals, List<Table> tables, List<Integer> droppedElements) {

  public InstanceState {
    globals = List.copyOf(globals);
    tables = List.copyOf(tables);
    droppedElements = List.copyOf(droppedElements);
  }

  /**
   * One global's value.
   *
   * @param typeId Chicory's {@code ValType.id()} of the global's type, checked on resume
   * @param low the value (all of it, except a v128's high half)
   * @param high a v128's high 64 bits, else 0
   */
  public record Global(int index, long typeId, long low, long high) {}

  /** One table's entries: function indices, {@code -1} for a null reference. */
  public record Table(int index, int[] refs) {
    public Table {
      refs = refs.clone();
    }

    @Override
    public int[] refs() {
      return refs.clone();
    }

    int size() {
      return refs.length;
    }

    int ref(int i) {
      return refs[i];
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Table t && t.index == index && Arrays.equals(t.refs, refs);
    }

    @Override
    public int hashCode() {
      return 31 * index + Arrays.hashCode(refs);
    }

    @Override
    public String toString() {
      return "Table[index=" + index + ", size=" + refs.length + "]";
    }
  }
}
