package dev.spindle.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * The process that owns a container's state: its pid and start time (a pid alone may be reused by
 * the time anyone looks). A container whose owner is gone was left by a killed process.
 */
record Owner(long pid, Instant started) {
  static Owner current() {
    ProcessHandle self = ProcessHandle.current();
    return new Owner(self.pid(), self.info().startInstant().orElse(Instant.EPOCH));
  }

  void write(Path file) throws IOException {
    Files.writeString(file, pid + " " + started + "\n");
  }

  /** The owner recorded in {@code file}; empty when the file is missing or unreadable. */
  static Optional<Owner> read(Path file) throws IOException {
    try {
      String[] f = Files.readString(file).strip().split(" ");
      return Optional.of(new Owner(Long.parseLong(f[0]), Instant.parse(f[1])));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (RuntimeException garbled) {
      return Optional.empty();
    }
  }

  boolean isAlive() {
    return ProcessHandle.of(pid)
            .filter(p -> p.info().startInstant().orElse(Instant.EPOCH).equals(started))
            .isPresent()
        && !isZombie();
  }

  /**
   * A killed process stays in the process table until its parent reaps it, and the parent of a
   * backgrounded spindle may take its time (measured: over a second here), so a zombie counts as
   * gone.
   */
  private boolean isZombie() {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      int close = stat.lastIndexOf(')'); // the command name in parentheses may hold spaces
      char state = stat.charAt(close + 2);
      return state == 'Z' || state == 'X';
    } catch (IOException | RuntimeException gone) {
      return true;
    }
  }
}
