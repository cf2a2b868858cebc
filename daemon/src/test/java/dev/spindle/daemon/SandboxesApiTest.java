package dev.spindle.daemon;

import static dev.spindle.daemon.ImagesApiTest.catchApi;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.Limits;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sandboxes of real C guests over the API of a real daemon process. */
class SandboxesApiTest {
  @TempDir static Path tmp;
  static DaemonProcess node;
  static SpindleClient client;

  @BeforeAll
  static void start() throws Exception {
    node = DaemonProcess.start(tmp.resolve("home"));
    client = node.client();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  /**
   * Calls run on the request's own thread now (a big-stack Jetty thread): a guest that recurses
   * without end exhausts that thread's stack, which must end the call with a clean error and leave
   * the thread, and the node, serving.
   */
  @Test
  void unboundedRecursionIsAGuestErrorAndTheNodeServesOn() throws Exception {
    List<SandboxInfo> made =
        client.createSandboxes(
            new CreateSandboxes(Wasm.bytes(TestGuests.reactor("counter")), null, null, 2, null));
    for (int round = 0; round < 3; round++) { // each on whichever request thread takes it
      SandboxInfo deep =
          client
              .createSandboxes(
                  new CreateSandboxes(
                      Wasm.bytes(TestGuests.reactor("counter")), null, null, 1, null))
              .getFirst();
      ApiException e = catchApi(() -> client.call(deep.id(), "recurse", 0));
      assertThat(e.status()).isEqualTo(422);
      assertThat(e.code()).isEqualTo("guest_failed");
      assertThat(e.getMessage()).contains("call stack exhausted");
      client.deleteSandbox(deep.id());
    }
    assertThat(client.call(made.get(0).id(), "add", 40, 2)).containsExactly(42L);
    assertThat(client.call(made.get(1).id(), "add", 1, 2)).containsExactly(3L);
    for (SandboxInfo s : made) {
      client.deleteSandbox(s.id());
    }
  }

  @Test
  void reactorCreateCallOutputDelete() throws Exception {
    List<SandboxInfo> made =
        client.createSandboxes(
            new CreateSandboxes(Wasm.bytes(TestGuests.reactor("counter")), null, null, 3, null));
    assertThat(made)
        .hasSize(3)
        .allSatisfy(
            s -> {
              assertThat(s.kind()).isEqualTo("reactor");
              assertThat(s.status()).isEqualTo("ready");
            });
    assertThat(made.stream().map(SandboxInfo::id).distinct()).hasSize(3);
    String a = made.get(0).id();
    String b = made.get(1).id();

    assertThat(client.call(a, "add", 40, 2)).containsExactly(42L);
    assertThat(client.call(a, "next")).containsExactly(101L);
    assertThat(client.call(a, "next")).containsExactly(102L);
    assertThat(client.call(b, "next")).as("each sandbox has its own memory").containsExactly(101L);
    client.call(a, "shout");
    assertThat(client.output(a).stdout()).isEqualTo("counter is 102\n");
    assertThat(client.output(b).stdout()).isEmpty();
    assertThat(client.sandboxes()).extracting(SandboxInfo::id).contains(a, b);
    assertThat(client.metrics()).containsPattern("spindle_sandboxes [1-9]");

    ApiException noSuch = catchApi(() -> client.call(a, "nope"));
    assertThat(noSuch.status()).isEqualTo(400);
    assertThat(noSuch.code()).isEqualTo("unknown_export");
    assertThat(noSuch.getMessage()).contains("add").contains("next");

    ApiException trap = catchApi(() -> client.call(b, "crash"));
    assertThat(trap.status()).isEqualTo(422);
    assertThat(trap.code()).isEqualTo("guest_failed");
    assertThat(client.sandbox(b).status()).isEqualTo("dead");
    assertThat(catchApi(() -> client.call(b, "next")).code()).isEqualTo("sandbox_dead");
    assertThat(client.call(a, "next"))
        .as("a trap in one sandbox leaves the others")
        .containsExactly(103L);

    for (SandboxInfo s : made) {
      client.deleteSandbox(s.id());
    }
    assertThat(catchApi(() -> client.sandbox(a)).status()).isEqualTo(404);
    assertThat(catchApi(() -> client.call(a, "next")).code()).isEqualTo("not_found");
  }

  @Test
  void commandRunsWithArgsAndEnvAndReportsItsExitCode() throws Exception {
    SandboxInfo s =
        client
            .createSandboxes(
                new CreateSandboxes(
                    Wasm.bytes(TestGuests.command("hello")),
                    List.of("world"),
                    Map.of("WHO", "spindle"),
                    1,
                    null))
            .getFirst();
    assertThat(s.kind()).isEqualTo("command");
    SandboxInfo done = s;
    while (done.status().equals("running")) {
      Thread.sleep(10);
      done = client.sandbox(s.id());
    }
    assertThat(done.status()).isEqualTo("exited");
    assertThat(done.exitCode()).isEqualTo(3);
    assertThat(client.output(s.id()).stdout()).isEqualTo("hello world spindle\n");
    assertThat(catchApi(() -> client.call(s.id(), "main")).code()).isEqualTo("not_a_reactor");
    client.deleteSandbox(s.id());
  }

  @Test
  void moduleFromAPathInsideAnImage() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("guest-image/bin"));
    Files.write(dir.resolve("counter.wasm"), TestGuests.reactor("counter"));
    client.makeImage(new MakeImage(tmp.resolve("guest-image").toString(), "guests"));
    SandboxInfo s =
        client
            .createSandboxes(new CreateSandboxes(Wasm.inImage("guests", "/bin/counter.wasm")))
            .getFirst();
    assertThat(client.call(s.id(), "add", 1, 2)).containsExactly(3L);
    client.deleteSandbox(s.id());

    ApiException notThere =
        catchApi(
            () ->
                client.createSandboxes(new CreateSandboxes(Wasm.inImage("guests", "/bin/x.wasm"))));
    assertThat(notThere.status()).isEqualTo(400);
    assertThat(notThere.getMessage()).contains("wasm.path");
    ApiException noImage =
        catchApi(() -> client.createSandboxes(new CreateSandboxes(Wasm.inImage("nothing", "/a"))));
    assertThat(noImage.status()).isEqualTo(404);
  }

  @Test
  void badModulesAndCountsAre400() throws Exception {
    assertThat(
            catchApi(
                    () ->
                        client.createSandboxes(
                            new CreateSandboxes(new Wasm("%%%", null, null, null))))
                .getMessage())
        .contains("wasm.base64");
    assertThat(
            catchApi(
                    () ->
                        client.createSandboxes(
                            new CreateSandboxes(Wasm.bytes("not wasm".getBytes()))))
                .code())
        .isEqualTo("bad_wasm");
    assertThat(
            catchApi(
                    () ->
                        client.createSandboxes(
                            new CreateSandboxes(new Wasm("AA==", "/x", null, null))))
                .getMessage())
        .contains("exactly one");
    ApiException many =
        catchApi(
            () ->
                client.createSandboxes(
                    new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()), null, null, 1001, null)));
    assertThat(many.status()).isEqualTo(400);
    assertThat(many.getMessage()).contains("'n'");
    assertThat(
            catchApi(() -> client.createSandboxes(new CreateSandboxes(Wasm.file("relative.wasm"))))
                .getMessage())
        .contains("wasm.file");
  }

  @Test
  void liveSnapshotThenBranchesResumeTheWarmStateAndStayApart() throws Exception {
    SandboxInfo parent =
        client
            .createSandboxes(new CreateSandboxes(Wasm.bytes(TestGuests.reactor("counter"))))
            .getFirst();
    for (int i = 0; i < 5; i++) {
      client.call(parent.id(), "next");
    }
    assertThat(client.snapshot(parent.id(), new Snapshot("warm", "live", true)).status())
        .isEqualTo("ready");
    assertThat(client.image("warm").kind()).isEqualTo("snapshot");
    assertThat(client.call(parent.id(), "next")).as("the parent runs on").containsExactly(106L);

    List<SandboxInfo> kids = client.createSandboxes(CreateSandboxes.branch("warm", 3));
    assertThat(kids).hasSize(3).allSatisfy(k -> assertThat(k.kind()).isEqualTo("reactor"));
    assertThat(client.metrics())
        .as("the children share the snapshot's pages")
        .containsPattern("spindle_pages_shared [1-9]")
        .contains("spindle_pages_private ");
    assertThat(client.call(kids.get(0).id(), "next"))
        .as("the snapshot's instant, not the parent's later write")
        .containsExactly(106L);
    assertThat(client.call(kids.get(0).id(), "next")).containsExactly(107L);
    assertThat(client.call(kids.get(1).id(), "next"))
        .as("siblings do not see each other")
        .containsExactly(106L);
    assertThat(client.call(parent.id(), "next")).containsExactly(107L);

    ApiException both =
        catchApi(
            () ->
                client.createSandboxes(
                    new CreateSandboxes(
                        Wasm.bytes(SampleGuest.wasm()), null, null, 1, null, "warm")));
    assertThat(both.status()).isEqualTo(400);
    assertThat(catchApi(() -> client.createSandboxes(CreateSandboxes.branch("nope", 1))).status())
        .isEqualTo(404);
    assertThat(
            catchApi(() -> client.snapshot(parent.id(), new Snapshot("warm", "full", true)))
                .status())
        .as("the tag is taken")
        .isEqualTo(409);
    assertThat(
            catchApi(() -> client.snapshot(parent.id(), new Snapshot("x", "sideways", true)))
                .getMessage())
        .contains("'mode'");
    // A snapshot of a branch: a chain, with lineage both ways, then compacted.
    assertThat(client.snapshot(kids.get(0).id(), new Snapshot("warm2", "full", true)).status())
        .isEqualTo("ready");
    ImageInfo second = client.image("warm2");
    assertThat(second.parent()).isEqualTo("warm");
    assertThat(second.ancestors()).containsExactly("warm");
    assertThat(second.chainDepth()).isEqualTo(1);
    assertThat(second.pauseMs()).isNotNull().isPositive();
    assertThat(client.image("warm").dependents()).containsExactly("warm2");
    assertThat(catchApi(() -> client.deleteImage("warm", false)).status()).isEqualTo(409);
    // A later snapshot of the parent itself reads its unchanged pages through "warm" (incremental),
    // though it is no child of "warm" in the lineage.
    assertThat(client.snapshot(parent.id(), new Snapshot("warm3", "full", true)).status())
        .isEqualTo("ready");
    assertThat(client.image("warm3").parent()).isNull();
    ImageInfo flat = client.compact("warm2");
    assertThat(flat.chainDepth()).isZero();
    assertThat(flat.ancestors()).isEmpty();
    assertThat(client.image("warm").dependents()).isEmpty();
    ApiException readThrough = catchApi(() -> client.deleteImage("warm", false));
    assertThat(readThrough.status()).isEqualTo(409);
    assertThat(readThrough.getMessage()).contains("warm3").contains("compact");
    client.compact("warm3");
    client.deleteImage("warm", false);
    assertThat(client.images().stream().map(ImageInfo::tag))
        .contains("warm2", "warm3")
        .doesNotContain("warm");
    List<SandboxInfo> fromFlat = client.createSandboxes(CreateSandboxes.branch("warm2", 1));
    assertThat(client.call(fromFlat.getFirst().id(), "next")).containsExactly(108L);
    for (SandboxInfo k : kids) {
      client.deleteSandbox(k.id());
    }
    client.deleteSandbox(fromFlat.getFirst().id());
    client.deleteSandbox(parent.id());
  }

  @Test
  void aSnapshotBranchesAfterTheDaemonIsKilledAndRestarted() throws Exception {
    Path home = tmp.resolve("restart-home");
    try (DaemonProcess first = DaemonProcess.start(home)) {
      SpindleClient c = first.client();
      String id =
          c.createSandboxes(new CreateSandboxes(Wasm.bytes(TestGuests.reactor("counter"))))
              .getFirst()
              .id();
      c.call(id, "next");
      c.call(id, "next");
      assertThat(c.snapshot(id, new Snapshot("kept", "full", true)).status()).isEqualTo("ready");
      first.kill9();
    }
    try (DaemonProcess second = DaemonProcess.start(home)) {
      SpindleClient c = second.client();
      assertThat(c.image("kept").status()).isEqualTo("ready");
      List<SandboxInfo> kids = c.createSandboxes(CreateSandboxes.branch("kept", 2));
      assertThat(c.call(kids.get(0).id(), "next")).containsExactly(103L);
      assertThat(c.call(kids.get(1).id(), "next")).containsExactly(103L);
    }
  }

  /**
   * A second node with tight caps: 503 for too many sandboxes and for too many requests at once.
   */
  @Test
  void capsAnswer503() throws Exception {
    try (DaemonProcess small =
        DaemonProcess.start(
            tmp.resolve("small"), "--max-sandboxes", "2", "--max-concurrent", "1")) {
      SpindleClient c = small.client();
      ApiException full =
          catchApi(
              () ->
                  c.createSandboxes(
                      new CreateSandboxes(Wasm.bytes(SampleGuest.wasm()), null, null, 3, null)));
      assertThat(full.status()).isEqualTo(503);
      assertThat(full.code()).isEqualTo("capacity");

      SandboxInfo spinner =
          c.createSandboxes(
                  new CreateSandboxes(
                      Wasm.bytes(TestGuests.reactor("counter")),
                      null,
                      null,
                      1,
                      new Limits(5_000L, null, null)))
              .getFirst();
      CompletableFuture<ApiException> spin =
          CompletableFuture.supplyAsync(() -> catchApi(() -> c.call(spinner.id(), "spin")));
      while (!c.metrics().contains("spindle_http_requests_in_flight 1")) {
        Thread.sleep(5);
      }
      ApiException busy = catchApi(c::images);
      assertThat(busy.status()).isEqualTo(503);
      assertThat(busy.code()).isEqualTo("busy");
      assertThat(spin.get().code())
          .as("the spinning call is stopped by its timeout")
          .isEqualTo("limit_timeout");
      assertThat(c.images()).isEmpty();
    }
  }
}
