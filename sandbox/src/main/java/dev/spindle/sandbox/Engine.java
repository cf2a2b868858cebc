package dev.spindle.sandbox;

/** How Chicory executes the guest. */
public enum Engine {
  /**
   * Guest functions compiled to JVM bytecode: ~35x faster (docs/PLATFORM-FACTS.md), costs a
   * compile.
   */
  COMPILED,
  /** Chicory's interpreter: no compile step, slow. */
  INTERPRETER
}
