package dev.spindle.sandbox;

import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ActiveElement;
import com.dylibso.chicory.wasm.types.CustomSection;
import com.dylibso.chicory.wasm.types.Element;
import com.dylibso.chicory.wasm.types.ElementSection;
import java.util.List;

/**
 * The module a resumed reactor is instantiated from: the same module with the initialisers of its
 * active element segments left out. Instantiation evaluates each initialiser (a constant expression
 * per table entry) to fill the tables, and a resumed reactor then overwrites every entry from the
 * captured state, so that work is wasted, and for CPython (thousands of entries) it was most of a
 * branch: JFR over 330 branches had 34 of 53 instantiation samples in {@code
 * ConstantEvaluators.computeConstantValue} under {@code Instance.initialize}. After instantiation
 * an active segment behaves as dropped (the Wasm spec's implicit {@code elem.drop}), so an empty
 * one is indistinguishable to the guest. Offsets stay (they are still bounds-checked, against the
 * same tables). Used for modules compiled at build time only (see {@code
 * GuestModule.resumeModule}).
 */
final class ResumeModules {
  private ResumeModules() {}

  static WasmModule withoutActiveElementInitialisers(WasmModule m) {
    ElementSection.Builder elements = ElementSection.builder();
    boolean changed = false;
    for (Element e : m.elementSection().elements()) {
      if (e instanceof ActiveElement a && !a.initializers().isEmpty()) {
        elements.addElement(new ActiveElement(a.type(), List.of(), a.tableIndex(), a.offset()));
        changed = true;
      } else {
        elements.addElement(e);
      }
    }
    if (!changed) {
      return m;
    }
    // Every other section is the module's own object, shared: nothing is copied but the list.
    WasmModule.Builder b =
        WasmModule.builder()
            .withValidation(false)
            .setTypeSection(m.typeSection())
            .setImportSection(m.importSection())
            .setFunctionSection(m.functionSection())
            .setTableSection(m.tableSection())
            .setGlobalSection(m.globalSection())
            .setExportSection(m.exportSection())
            .setElementSection(elements.build())
            .setCodeSection(m.codeSection())
            .setDataSection(m.dataSection());
    m.memorySection().ifPresent(b::setMemorySection);
    m.startSection().ifPresent(b::setStartSection);
    m.dataCountSection().ifPresent(b::setDataCountSection);
    m.tagSection().ifPresent(b::setTagSection);
    for (CustomSection c : m.customSections()) {
      b.addCustomSection(c.name(), c);
    }
    m.ignoredSections().forEach(b::addIgnoredSection);
    if (m.digest() != null) {
      b.withDigest(m.digest());
    }
    return b.build();
  }
}
