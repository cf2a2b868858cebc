package dev.spindle.container;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What to undo, in reverse order of doing: each step of starting a container (FUSE mount, overlay,
 * cgroups, runc container) pushes its undo right after it succeeds, so a failure at any step and
 * the normal end both release exactly what exists. Every undo runs even when an earlier one fails;
 * the first failure is thrown with the others suppressed.
 */
final class UndoStack {
  interface Step {
    void run() throws IOException;
  }

  private record Named(String what, Step step) {}

  private final Deque<Named> steps = new ArrayDeque<>();

  synchronized void push(String what, Step undo) {
    steps.push(new Named(what, undo));
  }

  synchronized void runAll() throws IOException {
    IOException first = null;
    while (!steps.isEmpty()) {
      Named n = steps.pop();
      try {
        n.step().run();
      } catch (IOException | RuntimeException e) {
        IOException x = new IOException("cleanup failed to " + n.what() + ": " + e.getMessage(), e);
        if (first == null) {
          first = x;
        } else {
          first.addSuppressed(x);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
