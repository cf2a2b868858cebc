package dev.spindle.daemon;

import static dev.spindle.daemon.ImagesApiTest.catchApi;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.EvalResult;
import dev.spindle.client.Api.Fork;
import dev.spindle.client.Api.ForkResult;
import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.Limits;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Python sandboxes over the API of real daemon processes: branches of the node's warm CPython,
 * evaluated, snapshotted, branched, timed out, forked to another node, and a restarted node
 * branching the warm snapshot it made before.
 */
class PythonApiTest {
  @TempDir static Path tmp;
  static DaemonProcess node;
  static SpindleClient client;

  @BeforeAll
  static void start() throws Exception {
    // NodeSandbox memory (the warm interpreter's pages, shared by its branches) is on the node's
    // heap.
    node = DaemonProcess.startOn(tmp.resolve("home"), "127.0.0.1", "1g");
    client = node.client();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void evaluatesKeepingStateWithNotebookValuesAndTypedErrors() {
    SandboxInfo s = client.createSandboxes(CreateSandboxes.python(1, null)).getFirst();
    assertThat(s.runtime()).isEqualTo("python");
    assertThat(s.kind()).isEqualTo("reactor");
    String id = s.id();

    EvalResult set = client.eval(id, "x = 41\nprint('hello', x)");
    assertThat(set.ok()).isTrue();
    assertThat(set.stdout()).isEqualTo("hello 41\n");
    assertThat(set.value()).isNull();
    assertThat(client.eval(id, "x + 1").value())
        .as("the last expression, as in a notebook")
        .isEqualTo("42");
    assertThat(client.eval(id, "import json\njson.dumps({'x': x})").value())
        .isEqualTo("'{\"x\": 41}'");
    assertThat(client.eval(id, "import sys\nprint('oops', file=sys.stderr)").stderr())
        .isEqualTo("oops\n");

    EvalResult err = client.eval(id, "def f(d):\n    return 1 / d\n\nf(0)");
    assertThat(err.ok()).isFalse();
    assertThat(err.error().type()).isEqualTo("ZeroDivisionError");
    assertThat(err.error().message()).isEqualTo("division by zero");
    assertThat(err.error().traceback())
        .startsWith("Traceback (most recent call last):")
        .contains("in f")
        .contains("return 1 / d")
        .endsWith("ZeroDivisionError: division by zero\n");
    EvalResult bad = client.eval(id, "json.loads('{')");
    assertThat(bad.error().type()).isEqualTo("json.decoder.JSONDecodeError");
    assertThat(client.eval(id, "x").value()).as("an exception leaves the state").isEqualTo("41");

    // The directory guest.py came from is the node's and shared: no sandbox reaches it.
    EvalResult guest = client.eval(id, "open('/guest/guest.py').read()");
    assertThat(guest.ok())
        .as("/guest is closed in every Python sandbox: %s", guest.value())
        .isFalse();

    assertThat(client.sandbox(id).runtime()).isEqualTo("python");
    client.deleteSandbox(id);
  }

  @Test
  void refusesWhatIsNotForIt() throws Exception {
    String wasm =
        client.createSandboxes(new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()))).getFirst().id();
    assertThat(client.sandbox(wasm).runtime()).isEqualTo("wasm");
    ApiException notPython = catchApi(() -> client.eval(wasm, "1"));
    assertThat(notPython.status()).isEqualTo(409);
    assertThat(notPython.code()).isEqualTo("not_an_interpreter");
    client.deleteSandbox(wasm);

    ApiException ruby =
        catchApi(
            () ->
                client.createSandboxes(
                    new CreateSandboxes(null, null, null, 1, null, null, "ruby")));
    assertThat(ruby.status()).isEqualTo(400);
    assertThat(ruby.code()).isEqualTo("unsupported_runtime");
    assertThat(
            catchApi(
                    () ->
                        client.createSandboxes(
                            new CreateSandboxes(null, null, null, 1, null, null, "perl")))
                .code())
        .isEqualTo("bad_field");
    assertThat(
            catchApi(
                    () ->
                        client.createSandboxes(
                            new CreateSandboxes(
                                Wasm.bytes(SampleGuest.wasm()),
                                null,
                                null,
                                1,
                                null,
                                null,
                                "python")))
                .code())
        .isEqualTo("bad_field");
    assertThat(
            catchApi(
                    () ->
                        client.createSandboxes(
                            CreateSandboxes.python(1, new Limits(0L, null, null))))
                .code())
        .as("limits are checked against the node's ceilings as for any sandbox")
        .isEqualTo("bad_field");

    // The warm snapshot is a snapshot like any, in a prefix no client may claim.
    client.createSandboxes(CreateSandboxes.python(1, null));
    ImageInfo warm =
        client.images().stream()
            .filter(i -> i.tag().startsWith("runtime-python-"))
            .findFirst()
            .orElseThrow();
    assertThat(warm.kind()).isEqualTo("snapshot");
    assertThat(warm.status()).isEqualTo("ready");
    String py = client.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
    ApiException reserved =
        catchApi(() -> client.snapshot(py, new Snapshot("runtime-mine", "full", true)));
    assertThat(reserved.status()).isEqualTo(400);
    assertThat(reserved.code()).isEqualTo("bad_tag");
    assertThat(client.eval(py, "eval('1+1')").value()).isEqualTo("2");
    ApiException noCode = catchApi(() -> client.eval(py, null));
    assertThat(noCode.code()).isEqualTo("bad_field");
    ApiException call = catchApi(() -> client.call(py, "spindle_eval"));
    assertThat(call.status()).isEqualTo(409);
    assertThat(call.code()).isEqualTo("not_a_wasm_sandbox");
    assertThat(call.getMessage()).contains("/eval");
    assertThat(client.eval(py, "1 + 2").value())
        .as("a refused call leaves the sandbox as it was")
        .isEqualTo("3");
  }

  @Test
  void fiveBranchesOfASnapshotContinueItsStateAndDrawDistinctRandomNumbers() {
    String parent = client.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
    // random imported and used before the snapshot: each child holds the same generator state.
    client.eval(
        parent, "import random\nrandom.seed(7)\nsteps = ['parent']\nfirst = random.random()");
    ImageInfo snap = client.snapshot(parent, new Snapshot("py-five", "live", true));
    assertThat(snap.status()).isEqualTo("ready");
    assertThat(snap.ancestors())
        .as("a Python sandbox is a branch of the warm snapshot")
        .hasSize(1)
        .allSatisfy(a -> assertThat(a).startsWith("runtime-python-"));
    client.eval(parent, "steps.append('later')");

    List<SandboxInfo> kids = client.createSandboxes(CreateSandboxes.branch("py-five", 5));
    assertThat(kids).hasSize(5).allSatisfy(k -> assertThat(k.runtime()).isEqualTo("python"));
    Set<String> draws = new HashSet<>();
    for (int i = 0; i < kids.size(); i++) {
      String k = kids.get(i).id();
      assertThat(client.eval(k, "steps.append(" + i + ")\nsteps").value())
          .isEqualTo("['parent', " + i + "]");
      draws.add(client.eval(k, "random.random()").value());
    }
    assertThat(draws).as("each child reseeded its random: %s", draws).hasSize(5);
    assertThat(client.eval(parent, "steps").value()).isEqualTo("['parent', 'later']");

    // A full snapshot of a child branches too: grandchildren continue the child's state.
    client.snapshot(kids.get(2).id(), new Snapshot("py-child", "full", true));
    String grandchild =
        client.createSandboxes(CreateSandboxes.branch("py-child", 1)).getFirst().id();
    assertThat(client.eval(grandchild, "steps").value()).isEqualTo("['parent', 2]");
  }

  @Test
  void eachPythonSandboxHasItsOwnWritableFilesThatSnapshotAndBranchWithIt() {
    String parent = client.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
    assertThat(
            client
                .eval(
                    parent,
                    "import os\nos.getcwd(), os.path.expanduser('~'), sorted(os.listdir('/'))")
                .value())
        .isEqualTo("('/home/user', '/home/user', ['home', 'tmp'])");
    client.eval(
        parent,
        "open('/home/user/notes.txt', 'w').write('v1')\nopen('/tmp/scratch', 'w').write('s')");
    String other = client.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
    assertThat(client.eval(other, "os.path.exists('/home/user/notes.txt')").value())
        .as("another Python sandbox of the node sees none of its files")
        .isEqualTo("False");

    client.snapshot(parent, new Snapshot("py-files", "live", true));
    client.eval(
        parent, "open('/home/user/notes.txt', 'w').write('v2-later')\nos.remove('/tmp/scratch')");
    List<SandboxInfo> kids = client.createSandboxes(CreateSandboxes.branch("py-files", 2));
    String a = kids.get(0).id();
    String b = kids.get(1).id();
    assertThat(client.eval(a, "open('notes.txt').read(), open('/tmp/scratch').read()").value())
        .as("a branch sees the files of the snapshot's instant")
        .isEqualTo("('v1', 's')");
    client.eval(a, "open('notes.txt', 'a').write('+a')\nos.mkdir('/home/user/a-dir')");
    assertThat(client.eval(b, "open('notes.txt').read(), os.path.exists('a-dir')").value())
        .as("siblings never see each other's writes")
        .isEqualTo("('v1', False)");
    assertThat(
            client.eval(parent, "open('notes.txt').read(), os.path.exists('/tmp/scratch')").value())
        .as("nor does the parent")
        .isEqualTo("('v2-later', False)");
    assertThat(client.eval(a, "open('notes.txt').read()").value()).isEqualTo("'v1+a'");
    for (String id : List.of(parent, other, a, b)) {
      client.deleteSandbox(id);
    }
  }

  @Test
  void aTimeoutStopsARunawayEvalAndMarksTheSandboxDead() {
    String id =
        client
            .createSandboxes(CreateSandboxes.python(1, new Limits(1_000L, null, null)))
            .getFirst()
            .id();
    assertThat(client.eval(id, "y = 2\ny").value()).isEqualTo("2");
    long t0 = System.nanoTime();
    ApiException timeout = catchApi(() -> client.eval(id, "while True:\n    pass"));
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(30_000);
    assertThat(timeout.status()).isEqualTo(422);
    assertThat(timeout.code()).isEqualTo("limit_timeout");
    assertThat(timeout.getMessage()).contains("dead");
    assertThat(client.sandbox(id).status()).isEqualTo("dead");
    assertThat(catchApi(() -> client.eval(id, "y")).code()).isEqualTo("sandbox_dead");
    // Its siblings are untouched.
    String other = client.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
    assertThat(client.eval(other, "1 + 1").value()).isEqualTo("2");
  }

  @Test
  void aRestartedNodeBranchesTheWarmSnapshotItMadeBefore() throws Exception {
    Path home = tmp.resolve("restart-home");
    String warmTag;
    String createdAt;
    try (DaemonProcess first = DaemonProcess.startOn(home, "127.0.0.1", "1g")) {
      SpindleClient c = first.client();
      String id = c.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
      assertThat(c.eval(id, "6 * 7").value()).isEqualTo("42");
      ImageInfo warm =
          c.images().stream()
              .filter(i -> i.tag().startsWith("runtime-python-"))
              .findFirst()
              .orElseThrow();
      warmTag = warm.tag();
      createdAt = warm.createdAt();
      c.eval(id, "open('/home/user/kept.txt', 'w').write('kept')");
      c.snapshot(id, new Snapshot("py-restart-files", "full", true));
      first.kill9();
    }
    try (DaemonProcess second = DaemonProcess.startOn(home, "127.0.0.1", "1g")) {
      SpindleClient c = second.client();
      String fromDisk =
          c.createSandboxes(CreateSandboxes.branch("py-restart-files", 1)).getFirst().id();
      assertThat(c.eval(fromDisk, "open('/home/user/kept.txt').read()").value())
          .as("a snapshot's files outlive the node's process")
          .isEqualTo("'kept'");
      assertThat(home.resolve("files/live"))
          .as("private trees of the killed node's sandboxes are gone")
          .satisfies(
              live -> {
                try (var entries = java.nio.file.Files.list(live)) {
                  assertThat(entries.count()).isEqualTo(1);
                }
              });
      List<SandboxInfo> kids = c.createSandboxes(CreateSandboxes.python(3, null));
      ImageInfo warm = c.image(warmTag);
      assertThat(warm.status()).isEqualTo("ready");
      assertThat(warm.createdAt()).as("the same snapshot, not a new boot").isEqualTo(createdAt);
      Set<String> draws = new HashSet<>();
      for (SandboxInfo k : kids) {
        assertThat(c.eval(k.id(), "import random\nz = 6 * 7\nz").value()).isEqualTo("42");
        draws.add(c.eval(k.id(), "random.random()").value());
      }
      assertThat(draws).hasSize(3);
    }
  }

  @Test
  void aNodeStartedWithWarmPythonBootsTheWarmSnapshotWithoutARequest() throws Exception {
    try (DaemonProcess warmed =
        DaemonProcess.startOn(tmp.resolve("warm-home"), "127.0.0.1", "1g", "--warm", "python")) {
      SpindleClient c = warmed.client();
      ImageInfo warm = null;
      // No Python request is made: the snapshot appears on its own. Polled, not timed.
      for (long deadline = System.nanoTime() + 60_000_000_000L;
          System.nanoTime() < deadline;
          Thread.sleep(250)) {
        warm =
            c.images().stream()
                .filter(i -> i.tag().startsWith("runtime-python-") && i.ready())
                .findFirst()
                .orElse(null);
        if (warm != null) {
          break;
        }
      }
      assertThat(warm).as("the runtime-python-… snapshot, listed within 60 s of start").isNotNull();
      assertThat(warm.kind()).isEqualTo("snapshot");
      String id = c.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
      assertThat(c.eval(id, "6 * 7").value()).isEqualTo("42");
      assertThat(c.image(warm.tag()).createdAt())
          .as("the first request branched the warm one, no new boot")
          .isEqualTo(warm.createdAt());
    }
  }

  @Test
  void aPythonSandboxForksToAnotherNodeAndContinuesThere() throws Exception {
    String a = "127.0.0.2:" + DaemonProcess.freePort();
    String b = "127.0.0.3:" + DaemonProcess.freePort();
    Path store = tmp.resolve("pages");
    try (DaemonProcess na =
            DaemonProcess.startAt(
                tmp.resolve("a"),
                a,
                "1g",
                "--page-store",
                store.toString(),
                "--peer",
                "http://" + b);
        DaemonProcess nb =
            DaemonProcess.startAt(
                tmp.resolve("b"),
                b,
                "1g",
                "--page-store",
                store.toString(),
                "--peer",
                "http://" + a)) {
      SpindleClient ca = na.client();
      SpindleClient cb = nb.client();
      String parent = ca.createSandboxes(CreateSandboxes.python(1, null)).getFirst().id();
      ca.eval(parent, "import decimal\nprice = decimal.Decimal('19.99')");
      ForkResult f = ca.fork(parent, new Fork(nb.url, nb.token(), null));
      String child = f.child().id();
      assertThat(cb.sandbox(child).runtime())
          .as("b found the precompiled CPython by the module's hash")
          .isEqualTo("python");
      assertThat(cb.eval(child, "price += 1\nstr(price * 3)").value()).isEqualTo("'62.97'");
      assertThat(ca.eval(parent, "str(price)").value()).isEqualTo("'19.99'");
    }
  }
}
