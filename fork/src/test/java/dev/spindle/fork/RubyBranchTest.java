package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.ruby.RubyVm;
import dev.spindle.store.SpindleCache;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.Requirements;
import dev.spindle.testing.Tool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A warm interpreter: CRuby booted with a library loaded and state built, snapshotted live, then
 * branched into children that each evaluate different Ruby code. Each sees the warm state and none
 * sees another's writes. The module comes from npm (installed by scripts/npm-guests, which the
 * sandbox module's tests run first in the same build).
 */
class RubyBranchTest {
  @TempDir Path tmp;

  private static Path rubyWasm() {
    return RubyVm.wasm(SpindleCache.root().resolve("guests/npm"));
  }

  private static String out(Guest g) {
    return new String(g.reactor().stdout(), StandardCharsets.UTF_8);
  }

  @Test
  void warmRubyBranchesSeeTheWarmStateAndNeverEachOther() throws Exception {
    Path wasm = rubyWasm();
    Requirements.require(
        Tool.NPM_GUESTS, Files.exists(wasm), "CRuby from npm not installed (scripts/npm-guests)");
    Sandbox sandbox = Sandbox.builder(wasm).memoryFactory(PagedMemory::new).build();
    try (Forks forks = new Forks(new SpindleHome(tmp))) {
      Guest parent = forks.start(sandbox);
      RubyVm warm = RubyVm.init(parent.reactor(), List.of("ruby", "-EUTF-8", "-e_=0"));
      warm.eval("require 'json'; $warm = {'lib' => 'json', 'n' => 41}; $boots = ($boots || 0) + 1");

      SandboxSnapshot snap = forks.snapshot(parent, Tag.of("ruby-warm"), SnapshotMode.LIVE);
      warm.eval("$warm['n'] = -1"); // the parent runs on; no child may see this
      List<Guest> kids = forks.branch(snap, 3);
      assertThat(kids.getFirst().counts().privatePages()).isZero();

      RubyVm.attach(kids.get(0).reactor()).eval("$warm['n'] += 1; puts JSON.generate($warm)");
      RubyVm.attach(kids.get(1).reactor()).eval("puts $warm['n'], $boots");
      RubyVm.attach(kids.get(2).reactor()).eval("puts [1, 2, 3].map { _1 * $warm['n'] }.sum");
      RubyVm.attach(kids.get(1).reactor()).eval("puts $warm['n']");

      assertThat(out(kids.get(0))).isEqualTo("{\"lib\":\"json\",\"n\":42}\n");
      assertThat(out(kids.get(1))).isEqualTo("41\n1\n41\n");
      assertThat(out(kids.get(2))).isEqualTo("246\n");
      snap.persisted().get();
      assertThat(forks.store().status(Tag.of("ruby-warm"))).contains(SnapshotStatus.READY);
      kids.forEach(Guest::close);
      parent.close();
    }
  }
}
