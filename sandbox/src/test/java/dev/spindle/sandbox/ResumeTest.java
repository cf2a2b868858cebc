package dev.spindle.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import dev.spindle.testing.Guests;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/** {@link Sandbox#resumeReactor}: what it refuses, and that it never runs guest initialisation. */
class ResumeTest {
  /** A module with a start function (func 0, empty) and one page of memory, as raw bytes. */
  private static byte[] moduleWithStartFunction() {
    ByteArrayOutputStream w = new ByteArrayOutputStream();
    w.writeBytes(new byte[] {0, 'a', 's', 'm', 1, 0, 0, 0});
    w.writeBytes(new byte[] {1, 4, 1, 0x60, 0, 0}); // type section: () -> ()
    w.writeBytes(new byte[] {3, 2, 1, 0}); // function section: func 0 of type 0
    w.writeBytes(new byte[] {5, 3, 1, 0, 1}); // memory section: min 1 page
    w.writeBytes(new byte[] {8, 1, 0}); // start section: func 0
    w.writeBytes(new byte[] {10, 4, 1, 2, 0, 0x0b}); // code section: empty body
    return w.toByteArray();
  }

  @Test
  void aModuleWithAStartFunctionIsRefused() {
    Sandbox s = Sandbox.builder(moduleWithStartFunction()).build();
    InstanceState none =
        new InstanceState(java.util.List.of(), java.util.List.of(), java.util.List.of());
    assertThatThrownBy(
            () ->
                s.resumeReactor(
                    none, dev.spindle.sandbox.wasi.Wasi.builder().state(), ByteArrayMemory::new))
        .isInstanceOf(SandboxException.class)
        .hasMessageContaining("has a start function");
  }

  @Test
  void stateOfAnotherModuleIsRefusedNamingTheGlobal() {
    Sandbox warm = Sandbox.builder(Guests.bytes(Guests.reactor("warm"))).build();
    Sandbox other = Sandbox.builder(Guests.bytes(Guests.reactor("reactor"))).build();
    try (Reactor r = warm.startReactor()) {
      r.call("tick");
      InstanceState state = r.instanceState();
      assertThat(state.globals()).hasSizeGreaterThanOrEqualTo(2);
      assertThatThrownBy(() -> other.resumeReactor(state, r.wasiState(), ByteArrayMemory::new))
          .isInstanceOf(SandboxException.class)
          .hasMessageMatching(
              "global \\d+ (is not a global this module defines|has another type or mutability in this module)");
    }
  }

  @Test
  void resumingRunsNoInitialisationAndRestoresGlobals() {
    Sandbox s = Sandbox.builder(Guests.bytes(Guests.reactor("warm"))).build();
    try (Reactor r = s.startReactor()) {
      assertThat(r.call("inits")[0]).as("_initialize ran the constructors once").isEqualTo(1);
      r.call("tick");
      // A fresh memory (data segments only): had _initialize run again, inits would be 1.
      try (Reactor resumed =
          s.resumeReactor(r.instanceState(), r.wasiState(), ByteArrayMemory::new)) {
        assertThat(resumed.call("inits")[0]).isZero();
        assertThat(resumed.call("tick")[0]).as("the Wasm global came from the state").isEqualTo(2);
      }
    }
  }
}
