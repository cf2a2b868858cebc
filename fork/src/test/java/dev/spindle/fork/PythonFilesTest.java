package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.sandbox.python.PythonRuntime;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A warm CPython booted with a private root at '/' (as the node's warm interpreter is): Python's
 * open() reaches it in every branch, each branch writing its own copy.
 */
class PythonFilesTest {
  @TempDir Path tmp;

  @Test
  void branchesOfAWarmInterpreterEachGetTheirOwnWritableRoot() throws Exception {
    try (Forks forks = new Forks(new SpindleHome(tmp.resolve("home")))) {
      Path root = forks.privateRoot(List.of("home/user", "tmp"));
      Guest parent =
          forks.start(PythonRuntime.sandboxAtRoot(root).timeout(Duration.ofMinutes(2)).build());
      PythonRuntime warm = PythonRuntime.setupAtRoot(parent.reactor(), root);
      assertThat(root.resolve("guest.py")).as("imported, then removed").doesNotExist();
      // The environment was fixed at pre-initialisation: HOME and the directory are set in Python.
      assertThat(
              warm.eval("import os\nos.environ['HOME'] = '/home/user'\nos.chdir('/home/user')")
                  .ok())
          .isTrue();
      var w = warm.eval("open('/tmp/seen', 'w').write('parent')");
      assertThat(w.value()).as("%s", w.error()).isEqualTo("6");
      SandboxSnapshot snap = forks.snapshot(parent, Tag.of("warm"), SnapshotMode.FULL);
      assertThat(warm.eval("open('/tmp/seen', 'w').write('later!!')").value()).isEqualTo("7");

      List<Guest> kids = forks.branch(snap, 2);
      PythonRuntime a = PythonRuntime.attach(kids.get(0).reactor());
      PythonRuntime b = PythonRuntime.attach(kids.get(1).reactor());
      var r = a.eval("open('/tmp/seen').read()");
      assertThat(r.value()).as("%s", r.error()).isEqualTo("'parent'");
      assertThat(a.eval("open('/home/user/a.txt', 'w').write('from a')").ok()).isTrue();
      assertThat(
              b.eval("import os\nos.path.exists('/home/user/a.txt'), sorted(os.listdir('/'))")
                  .value())
          .isEqualTo("(False, ['home', 'tmp'])");
      assertThat(b.eval("os.path.expanduser('~'), os.getcwd()").value())
          .isEqualTo("('/home/user', '/home/user')");
      assertThat(
              b.eval("open('rel.txt', 'w').write('r')\nsorted(os.listdir('/home/user'))").value())
          .isEqualTo("['rel.txt']");
      Path aRoot = kids.get(0).privateDirs().get("/");
      assertThat(Files.readString(aRoot.resolve("home/user/a.txt"))).isEqualTo("from a");
      Files.writeString(aRoot.resolve("tmp/host.txt"), "from the host");
      assertThat(a.eval("open('/tmp/host.txt').read()").value()).isEqualTo("'from the host'");

      // The host directories that took the writes (the overlays' upper ones) go with them.
      Path aUpper = forks.files().hostDirOf(aRoot);
      Path parentUpper = forks.files().hostDirOf(root);
      assertThat(aUpper.resolve("home/user/a.txt")).hasContent("from a");
      kids.get(0).close();
      assertThat(aUpper).doesNotExist();
      kids.get(1).close();
      parent.close();
      assertThat(parentUpper).doesNotExist();
    }
  }
}
