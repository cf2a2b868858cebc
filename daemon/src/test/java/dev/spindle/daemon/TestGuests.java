package dev.spindle.daemon;

import dev.spindle.testing.Guests;

/**
 * The C guests under this module's {@code src/test/c}, built and cached by the sandbox module's
 * {@link Guests} (clang for wasm32-wasi, cached by the hash of source and flags in {@code
 * ~/.cache/spindle/guests/}); without clang or a cached binary the test is skipped.
 */
final class TestGuests {
  private TestGuests() {}

  static byte[] reactor(String name) {
    return Guests.bytes(Guests.reactor(name));
  }

  static byte[] command(String name) {
    return Guests.bytes(Guests.command(name));
  }
}
