package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.sandbox.python.PythonRuntime;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A warm CPython: set up, a module imported and state built, snapshotted live, then branched into
 * two children that each carry the state on independently of each other and of the parent.
 */
class PythonBranchTest {
  @TempDir Path tmp;

  @Test
  void warmPythonBranchesContinueTheStateIndependently() throws Exception {
    try (Forks forks = new Forks(new SpindleHome(tmp.resolve("home")))) {
      Guest parent =
          forks.start(
              PythonRuntime.sandbox(tmp.resolve("guest")).timeout(Duration.ofMinutes(2)).build());
      PythonRuntime warm = PythonRuntime.setup(parent.reactor());
      assertThat(warm.eval("import json, random\nwarm = {'lib': 'json', 'n': 41}\nevals = 1").ok())
          .isTrue();

      long t0 = System.nanoTime();
      SandboxSnapshot snap = forks.snapshot(parent, Tag.of("python-warm"), SnapshotMode.LIVE);
      long t1 = System.nanoTime();
      warm.eval("warm['n'] = -1"); // the parent runs on; no child may see this
      List<Guest> kids = forks.branch(snap, 2);
      long t2 = System.nanoTime();
      PythonRuntime a = PythonRuntime.attach(kids.get(0).reactor());
      PythonRuntime b = PythonRuntime.attach(kids.get(1).reactor());
      String first = a.eval("warm['n'] += 1\njson.dumps(warm)").value();
      long t3 = System.nanoTime();
      System.out.printf(
          "python snapshot %.2f ms, branch 2 %.2f ms, first eval in a child %.1f ms%n",
          (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6);

      assertThat(first).isEqualTo("'{\"lib\": \"json\", \"n\": 42}'");
      assertThat(b.eval("warm['n'], evals").value()).isEqualTo("(41, 1)");
      assertThat(b.eval("evals += 1\nwarm['n'] *= 2\nwarm['n'], evals").value())
          .isEqualTo("(82, 2)");
      assertThat(a.eval("warm['n'], evals").value()).isEqualTo("(42, 1)");
      assertThat(warm.eval("warm['n'], evals").value()).isEqualTo("(-1, 1)");

      // random was imported before the snapshot: both children hold the parent's generator state
      // and repeat each other's draws until reseeded from their own WASI random streams.
      assertThat(a.eval("random.random()").value()).isEqualTo(b.eval("random.random()").value());
      a.reseed();
      b.reseed();
      assertThat(a.eval("random.random()").value()).isNotEqualTo(b.eval("random.random()").value());

      snap.persisted().get();
      assertThat(forks.store().status(Tag.of("python-warm"))).contains(SnapshotStatus.READY);
      kids.forEach(Guest::close);
      parent.close();
    }
  }

  @Test
  void aPersistedWarmSnapshotBranchesAfterARestart() throws Exception {
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    try (Forks forks = new Forks(home)) {
      Guest parent =
          forks.start(
              PythonRuntime.sandbox(tmp.resolve("guest")).timeout(Duration.ofMinutes(2)).build());
      PythonRuntime warm = PythonRuntime.setup(parent.reactor());
      assertThat(warm.eval("import decimal\nprice = decimal.Decimal('19.99')").ok()).isTrue();
      forks.snapshot(parent, Tag.of("python-disk"), SnapshotMode.FULL);
      parent.close();
    }
    // A new Forks reads the snapshot and its stored module from disk: the module's bytes alone
    // find the precompiled machine (PythonModule), since they hold no code to compile.
    try (Forks forks = new Forks(home)) {
      SandboxSnapshot snap = forks.open(Tag.of("python-disk"));
      List<Guest> kids = forks.branch(snap, 2);
      assertThat(PythonRuntime.attach(kids.get(0).reactor()).eval("str(price * 3)").value())
          .isEqualTo("'59.97'");
      assertThat(PythonRuntime.attach(kids.get(1).reactor()).eval("price += 1\nprice").value())
          .isEqualTo("Decimal('20.99')");
      kids.forEach(Guest::close);
    }
  }
}
