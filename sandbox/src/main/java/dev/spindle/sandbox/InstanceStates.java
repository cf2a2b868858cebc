package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.GlobalInstance;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.TableInstance;
import com.dylibso.chicory.wasm.types.MutabilityType;
import com.dylibso.chicory.wasm.types.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an {@link InstanceState} out of a Chicory instance and writes one into a fresh instance of
 * the same module. Chicory 1.7.5 lets a host do both through public API: {@code
 * GlobalInstance.setValueLow/High} and {@code TableInstance.setRef}.
 *
 * <p>Table entries carry the instance they call into, and compiled code follows that pointer
 * ({@code call_indirect} calls {@code refInstance}'s machine when it is not the caller): a restored
 * entry must name the new instance, never the one it was captured from, or a child's indirect calls
 * would run in its parent.
 */
final class InstanceStates {
  private InstanceStates() {}

  /** The instance's state; call it between calls (the Wasm stack empty). */
  static InstanceState capture(Instance instance) {
    List<InstanceState.Global> globals = new ArrayList<>();
    for (int i = instance.imports().globalCount(); i < instance.globalCount(); i++) {
      GlobalInstance g = instance.global(i);
      if (g.getMutabilityType() == MutabilityType.Var) {
        globals.add(
            new InstanceState.Global(i, g.getType().id(), g.getValueLow(), g.getValueHigh()));
      }
    }
    List<InstanceState.Table> tables = new ArrayList<>();
    for (int t = instance.imports().tableCount(); t < instance.tableCount(); t++) {
      TableInstance table = instance.table(t);
      int[] refs = new int[table.size()];
      for (int j = 0; j < refs.length; j++) {
        refs[j] = table.ref(j);
        Instance owner = table.instance(j);
        if (refs[j] != Value.REF_NULL_VALUE && owner != null && owner != instance) {
          throw new SandboxException(
              "cannot capture table "
                  + t
                  + ": entry "
                  + j
                  + " refers to a function of another instance",
              null);
        }
      }
      tables.add(new InstanceState.Table(t, refs));
    }
    List<Integer> dropped = new ArrayList<>();
    for (int e = 0; e < instance.elementCount(); e++) {
      if (instance.element(e) == null) {
        dropped.add(e);
      }
    }
    return new InstanceState(globals, tables, dropped);
  }

  /**
   * Writes {@code state} into {@code instance}, a fresh instance of the module it was captured
   * from; a state that does not fit the module is refused naming the global or table.
   */
  static void apply(InstanceState state, Instance instance) {
    for (InstanceState.Global g : state.globals()) {
      if (g.index() < instance.imports().globalCount() || g.index() >= instance.globalCount()) {
        throw new SandboxException(
            "global " + g.index() + " is not a global this module defines", null);
      }
      GlobalInstance target = instance.global(g.index());
      if (target.getMutabilityType() != MutabilityType.Var || target.getType().id() != g.typeId()) {
        throw new SandboxException(
            "global " + g.index() + " has another type or mutability in this module", null);
      }
      target.setValueLow(g.low());
      target.setValueHigh(g.high());
    }
    for (InstanceState.Table t : state.tables()) {
      if (t.index() < instance.imports().tableCount() || t.index() >= instance.tableCount()) {
        throw new SandboxException(
            "table " + t.index() + " is not a table this module defines", null);
      }
      TableInstance target = instance.table(t.index());
      int size = t.size();
      if (target.size() < size
          && target.grow(size - target.size(), Value.REF_NULL_VALUE, instance) < 0) {
        throw new SandboxException(
            "table " + t.index() + " cannot grow to " + size + " entries", null);
      }
      // Chicory's TableInstance.grow also raises the module's own TableLimits.min, so a new
      // instance may start larger than the snapshot's table: the extra entries are null,
      // as a Wasm table grown after the snapshot would not exist.
      for (int j = 0; j < target.size(); j++) {
        int ref = j < size ? t.ref(j) : Value.REF_NULL_VALUE;
        target.setRef(j, ref, ref == Value.REF_NULL_VALUE ? null : instance);
      }
    }
    for (int e : state.droppedElements()) {
      if (e < 0 || e >= instance.elementCount()) {
        throw new SandboxException("element segment " + e + " does not exist in this module", null);
      }
      instance.setElement(e, null);
    }
  }
}
