package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.remote.Descriptor;
import dev.spindle.remote.DescriptorCodec;
import dev.spindle.remote.DirectoryPageStore;
import dev.spindle.remote.PageServer;
import dev.spindle.remote.RemotePages;
import dev.spindle.sandbox.Engine;
import dev.spindle.store.SpindleHome;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote fork of the warm C guest between two homes in one process (the daemon's tests do it
 * between processes): globals, heap and module reach the child; a tampered module is refused.
 */
class RemoteForksTest {
  @TempDir Path tmp;

  @Test
  void theChildOnAnotherHomeContinuesFromTheParentsInstant() throws Exception {
    try (PageServer server =
            PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Forks a = new Forks(new SpindleHome(tmp.resolve("a")));
        Forks b = new Forks(new SpindleHome(tmp.resolve("b")));
        Guest parent = a.start(BranchTest.sandbox(Engine.COMPILED))) {
      BranchTest.one(parent, "warm", BranchTest.ENTRIES);
      BranchTest.one(parent, "touch", 1);
      parent.call("fill_cells", 42);
      assertThat(BranchTest.one(parent, "tick")).isEqualTo(1);
      long lookup = BranchTest.one(parent, "lookup", 500);
      DirectoryPageStore store = new DirectoryPageStore(tmp.resolve("pages"));
      RemotePages.Prepared p =
          new RemoteForks(a)
              .prepare(parent, server, "127.0.0.1", Duration.ofMinutes(1), store, Runnable::run);
      assertThat(p.upload().get()).isPositive();
      parent.call("fill_cells", 7);
      BranchTest.one(parent, "tick");

      byte[] wire = DescriptorCodec.encode(p.descriptor());
      RemoteForks.Child c =
          new RemoteForks(b)
              .resume(DescriptorCodec.decode(wire), store, 8, Duration.ofSeconds(5), false);
      try (Guest child = c.guest()) {
        assertThat(c.pages().stats().pagesFetched()).isZero();
        assertThat(BranchTest.one(child, "tick")).isEqualTo(2);
        assertThat(BranchTest.one(child, "peek", 1000))
            .isEqualTo(42 + 1000); // the parent has 7 + 1000 now
        assertThat(BranchTest.one(child, "lookup", 500)).isEqualTo(lookup);
        assertThat(c.pages().stats().pagesFetched()).isPositive();
      }
      String sha = ModuleStore.sha256(parent.sandbox().wasm());
      assertThat(Files.readAllBytes(tmp.resolve("b/modules/" + sha + ".wasm")))
          .isEqualTo(parent.sandbox().wasm());
    }
  }

  @Test
  void aNodeWithoutTheModuleGetsItFromTheStoreWhenTheParentIsGoneElseStopsNamingIt()
      throws Exception {
    DirectoryPageStore store = new DirectoryPageStore(tmp.resolve("pages"));
    byte[] wire;
    String sha;
    try (Forks a = new Forks(new SpindleHome(tmp.resolve("a")));
        Guest parent = a.start(BranchTest.sandbox(Engine.COMPILED))) {
      BranchTest.one(parent, "warm", BranchTest.ENTRIES);
      BranchTest.one(parent, "touch", 1);
      parent.call("fill_cells", 9);
      sha = ModuleStore.sha256(parent.sandbox().wasm());
      try (PageServer server =
          PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
        RemotePages.Prepared p =
            new RemoteForks(a)
                .prepare(parent, server, "127.0.0.1", Duration.ofMinutes(1), store, Runnable::run);
        p.upload().get();
        wire = DescriptorCodec.encode(p.descriptor());
      }
    }
    assertThat(new String(DescriptorCodec.decode(wire).state()))
        .as("the state names the module, no more")
        .contains(sha)
        .doesNotContain("module_base64");
    try (Forks b = new Forks(new SpindleHome(tmp.resolve("b")))) {
      RemoteForks.Child c =
          new RemoteForks(b)
              .resume(DescriptorCodec.decode(wire), store, 8, Duration.ofSeconds(2), false);
      try (c) {
        assertThat(BranchTest.one(c.guest(), "peek", 3)).isEqualTo(9 + 3);
        assertThat(c.pages().stats().fallbackPages()).isPositive();
      }
      assertThat(tmp.resolve("b/modules/" + sha + ".wasm")).exists();
    }
    Files.delete(tmp.resolve("pages").resolve(sha.substring(0, 2)).resolve(sha.substring(2)));
    try (Forks c = new Forks(new SpindleHome(tmp.resolve("c")))) {
      assertThatThrownBy(
              () ->
                  new RemoteForks(c)
                      .resume(DescriptorCodec.decode(wire), store, 8, Duration.ofSeconds(2), false))
          .isInstanceOf(dev.spindle.remote.RemotePageException.class)
          .hasMessageContaining("module " + sha)
          .hasMessageContaining("the store has no such module");
      assertThat(tmp.resolve("c/modules/" + sha + ".wasm")).doesNotExist();
    }
  }

  @Test
  void theParentsWorkingSetIsReplayedInTheBackgroundSoTouchingItCostsNoFault() throws Exception {
    try (PageServer server =
            PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Forks a = new Forks(new SpindleHome(tmp.resolve("a")));
        Forks b = new Forks(new SpindleHome(tmp.resolve("b")));
        Guest parent = a.start(BranchTest.sandbox(Engine.COMPILED))) {
      BranchTest.one(parent, "warm", BranchTest.ENTRIES);
      BranchTest.one(parent, "touch", 1);
      // After a snapshot every page is shared; what the parent writes next is its working set.
      a.snapshot(parent, dev.spindle.store.Tag.of("base"), SnapshotMode.FULL);
      parent.call("fill_cells", 42);
      assertThat(parent.counts().privatePages()).as("%s", parent.counts()).isPositive();
      RemotePages.Prepared p =
          new RemoteForks(a)
              .prepare(parent, server, "127.0.0.1", Duration.ofMinutes(1), null, Runnable::run);
      int[] ws = ForkState.fromBytes(p.descriptor().state()).workingSet();
      assertThat(ws).as("pages written since the snapshot").isNotEmpty();
      RemoteForks.Child cold =
          new RemoteForks(b).resume(p.descriptor(), null, 1, Duration.ofSeconds(5), false);
      long coldFaults;
      try (Guest child = cold.guest()) {
        assertThat(BranchTest.one(child, "peek", 1000)).isEqualTo(42 + 1000);
        coldFaults = cold.pages().stats().faults();
      }
      RemoteForks.Child c =
          new RemoteForks(b).resume(p.descriptor(), null, 1, Duration.ofSeconds(5), true);
      try (Guest child = c.guest()) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (c.pages().replayedPages() < ws.length && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(c.pages().replayedPages())
            .isEqualTo(ws.length)
            .isLessThan(p.descriptor().nonZeroPages());
        long before = c.pages().stats().faults();
        assertThat(BranchTest.one(child, "peek", 1000)).isEqualTo(42 + 1000);
        assertThat(c.pages().stats().faults() - before)
            .as(
                "the written pages came with the replay; only pages the parent merely read still fault")
            .isLessThan(coldFaults);
      }
    }
  }

  @Test
  void aModuleThatDoesNotHashToTheStatesIsRefused() throws Exception {
    try (PageServer server =
            PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Forks a = new Forks(new SpindleHome(tmp.resolve("a")));
        Forks b = new Forks(new SpindleHome(tmp.resolve("b")));
        Guest parent = a.start(BranchTest.sandbox(Engine.COMPILED))) {
      Descriptor d =
          new RemoteForks(a)
              .prepare(parent, server, "127.0.0.1", Duration.ofMinutes(1), null, Runnable::run)
              .descriptor();
      Descriptor tampered =
          withState(
              d,
              state ->
                  state.put(
                      "module_base64",
                      Base64.getEncoder()
                          .encodeToString(new byte[] {0, 'a', 's', 'm', 1, 0, 0, 0})));
      assertThatThrownBy(() -> new RemoteForks(b).resume(tampered, null, 8, Duration.ofSeconds(5)))
          .isInstanceOf(SnapshotDamagedException.class)
          .hasMessageContaining("module_base64")
          .hasMessageContaining("not the state's module");
      assertThat(tmp.resolve("b/modules")).doesNotExist();
    }
  }

  @Test
  void aDescriptorNamingHostDirectoriesIsRefused() throws Exception {
    try (PageServer server =
            PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Forks a = new Forks(new SpindleHome(tmp.resolve("a")));
        Forks b = new Forks(new SpindleHome(tmp.resolve("b")));
        Guest parent = a.start(BranchTest.sandbox(Engine.COMPILED))) {
      Descriptor d =
          new RemoteForks(a)
              .prepare(parent, server, "127.0.0.1", Duration.ofMinutes(1), null, Runnable::run)
              .descriptor();
      // Whoever can post a descriptor writes its state: here one that maps the host's / into the
      // guest.
      Descriptor tampered =
          withState(
              d,
              state ->
                  ((ObjectNode) state.path("sandbox").path("wasi"))
                      .putArray("preopens")
                      .addObject()
                      .put("guest_path", "/host")
                      .put("host_path", "/"));

      assertThatThrownBy(() -> new RemoteForks(b).resume(tampered, null, 8, Duration.ofSeconds(5)))
          .isInstanceOf(SnapshotDamagedException.class)
          .hasMessageContaining("preopened directories [/host]");
    }
  }

  @Test
  void aSandboxWithHostDirectoriesIsNotPrepared() throws Exception {
    java.nio.file.Path data = java.nio.file.Files.createDirectories(tmp.resolve("data"));
    try (PageServer server =
            PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Forks a = new Forks(new SpindleHome(tmp.resolve("a")));
        Guest parent =
            a.start(
                dev.spindle.sandbox.Sandbox.builder(
                        dev.spindle.testing.Guests.bytes(
                            dev.spindle.testing.Guests.reactor("warm")))
                    .engine(Engine.COMPILED)
                    .preopen("/data", data)
                    .build())) {
      assertThatThrownBy(
              () ->
                  new RemoteForks(a)
                      .prepare(
                          parent, server, "127.0.0.1", Duration.ofMinutes(1), null, Runnable::run))
          .isInstanceOf(java.io.IOException.class)
          .hasMessageContaining("preopened directories ([/data])");
    }
  }

  /**
   * {@code d} with its state's JSON changed by {@code edit}: what anyone who posts a descriptor can
   * do.
   */
  private static Descriptor withState(Descriptor d, java.util.function.Consumer<ObjectNode> edit)
      throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode state = (ObjectNode) json.readTree(d.state());
    edit.accept(state);
    return new Descriptor(
        d.pages(),
        d.pageHashes(),
        d.pendingHashes(),
        d.droppedSegments(),
        json.writeValueAsBytes(state),
        d.host(),
        d.port(),
        d.capability(),
        d.expiresAtMillis());
  }
}
