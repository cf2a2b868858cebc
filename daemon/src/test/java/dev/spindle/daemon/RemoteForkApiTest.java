package dev.spindle.daemon;

import static dev.spindle.daemon.ImagesApiTest.catchApi;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.DescriptorInfo;
import dev.spindle.client.Api.Fork;
import dev.spindle.client.Api.ForkResult;
import dev.spindle.client.Api.Limits;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import dev.spindle.remote.Capability;
import dev.spindle.remote.Descriptor;
import dev.spindle.remote.DescriptorCodec;
import dev.spindle.store.SpindleHome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote fork between two real nodes (two daemon processes on loopback, each with its own home):
 * the C guest {@code fill.c} fills memory with a pattern on one node and checks it on the other.
 */
class RemoteForkApiTest {
  /** The size: a 256 MiB parent, checked byte by byte on the other node. */
  private static final int BIG_MIB = 256;

  /** The other tests move less. */
  private static final int MIB = 16;

  /** One Wasm page is 64 KiB: 16 MiB of pattern is 256 pages. */
  private static final int PATTERN_PAGES = MIB * 16;

  private static final int BIG_PAGES = BIG_MIB * 16;

  @TempDir Path tmp;

  @Test
  void childContinuesOnTheOtherNodeFetchingWhatItTouchesAndNeverSeesLaterParentWrites()
      throws Exception {
    Path store = tmp.resolve("pages");
    try (DaemonProcess a = node("a", store);
        DaemonProcess b = node("b", store)) {
      SpindleClient ca = a.client();
      SpindleClient cb = b.client();
      String parent = filled(ca, 7, BIG_MIB);

      // replay false: only what the child touches moves (the working-set replay would fetch all).
      ForkResult f = ca.fork(parent, new Fork(b.url, b.token(), null, false));
      assertThat(f.node()).isEqualTo(b.url).contains("127.0.0.3");
      assertThat(f.descriptor()).isNull();
      String child = f.child().id();
      assertThat(cb.sandbox(child).status()).isEqualTo("ready");
      List<DescriptorInfo> held = ca.descriptors();
      assertThat(held).extracting(DescriptorInfo::id).containsExactly(f.descriptorId());
      assertThat(held.getFirst().nonZeroPages()).isGreaterThan(BIG_PAGES);
      assertThat(held.getFirst().capability()).startsWith("cap:").hasSizeLessThan(20);

      // The parent writes everything again at once: the child keeps the fork's instant.
      assertThat(ca.call(parent, "fill", BIG_MIB, 8)).containsExactly(0L);

      // 64 KiB of pattern: the child moves about that part (well under 1%), not its 256 MiB.
      assertThat(cb.call(child, "check_range", 1024, 64, 7)).containsExactly(0L);
      long touched = metric(cb, "spindle_remote_pages_fetched");
      assertThat(touched).isPositive().isLessThan(BIG_PAGES / 100);
      // A readahead batch may be asked for and not yet answered (the parent writes answers as the
      // child reads them): the parent has served no more than the child asked for.
      assertThat(metric(ca, "spindle_remote_pages_served")).isLessThanOrEqualTo(touched);

      assertThat(cb.call(child, "check", 7)).containsExactly(0L);
      assertThat(metric(cb, "spindle_remote_pages_fetched")).isGreaterThanOrEqualTo(BIG_PAGES);
      // Every page touched: the parent served every page the child fetched, and at most one
      // readahead window more (a page asked for on demand while a batch holding it was still in
      // flight is served twice and fetched once).
      // The parent counts a page once written, so its count can trail the child's for a moment.
      long fetchedAll = metric(cb, "spindle_remote_pages_fetched");
      long served = metric(ca, "spindle_remote_pages_served");
      for (int i = 0; i < 100 && served < fetchedAll; i++) {
        Thread.sleep(50);
        served = metric(ca, "spindle_remote_pages_served");
      }
      // Each side counts at its own instant (the child a page it installs, the parent a page it
      // wrote, a readahead batch possibly asked twice): they agree to within one readahead window.
      assertThat(served)
          .isBetween(
              fetchedAll - dev.spindle.remote.RemotePages.READAHEAD,
              fetchedAll + dev.spindle.remote.RemotePages.READAHEAD);
      assertThat(metric(cb, "spindle_remote_fallback_pages")).isZero();
      assertThat(ca.call(parent, "check", 8)).containsExactly(0L);

      // The child's own writes stay its own.
      assertThat(cb.call(child, "fill", BIG_MIB, 9)).containsExactly(0L);
      assertThat(ca.call(parent, "check", 8)).containsExactly(0L);
      assertThat(cb.call(child, "check", 9)).containsExactly(0L);

      // The node's totals outlive the child.
      long fetched = metric(cb, "spindle_remote_pages_fetched");
      cb.deleteSandbox(child);
      assertThat(metric(cb, "spindle_remote_pages_fetched")).isEqualTo(fetched);
      assertThat(metric(cb, "spindle_remote_page_faults")).isPositive();

      // The child's end released the descriptor on the parent's node: nothing is held for it.
      assertThat(ca.descriptors()).isEmpty();
      assertThat(metric(ca, "spindle_remote_descriptors_held")).isZero();
    }
  }

  @Test
  void childFinishesFromTheFallbackStoreAfterTheParentsNodeIsKilled() throws Exception {
    Path store = tmp.resolve("pages");
    try (DaemonProcess a = node("a", store);
        DaemonProcess b = node("b", store)) {
      SpindleClient ca = a.client();
      SpindleClient cb = b.client();
      String parent = filled(ca, 3);
      ForkResult f = ca.fork(parent, new Fork(b.url, b.token(), null, false));
      String child = f.child().id();
      assertThat(cb.call(child, "check_range", 0, 64, 3)).containsExactly(0L);
      awaitFallback(ca, f.descriptorId());

      a.kill9();
      assertThat(cb.call(child, "check", 3)).containsExactly(0L);
      assertThat(cb.call(child, "mib")).containsExactly((long) MIB);
      assertThat(metric(cb, "spindle_remote_fallback_pages")).isGreaterThan(PATTERN_PAGES / 2);
    }
  }

  @Test
  void aStolenReleasedOrExpiredCapabilityGetsNoPage() throws Exception {
    // Separate stores: what the parent's page service refuses, the child cannot get elsewhere.
    try (DaemonProcess a = node("a", tmp.resolve("pages-a"));
        DaemonProcess b = node("b", tmp.resolve("pages-b"))) {
      SpindleClient ca = a.client();
      SpindleClient cb = b.client();
      String parent = filled(ca, 5);

      // A node that refuses the descriptor (here: a wrong token): 502, and nothing stays exported.
      ApiException unresumed =
          catchApi(() -> ca.fork(parent, new Fork(b.url, "not-the-token", null)));
      assertThat(unresumed.status()).isEqualTo(502);
      assertThat(unresumed.code()).isEqualTo("resume_failed");
      assertThat(ca.descriptors()).isEmpty();
      assertThat(cb.sandboxes()).isEmpty();

      ForkResult f = ca.fork(parent, new Fork(null, null, null));
      assertThat(f.child()).isNull();
      byte[] bytes = Base64.getDecoder().decode(f.descriptor());
      assertThat(bytes).hasSize(f.descriptorBytes());
      DescriptorSeal.Opened opened = DescriptorSeal.open(bytes, k -> true);
      Descriptor d = DescriptorCodec.decode(opened.descriptor());
      // Only a's own key makes a seal b accepts: the test plays a's operator, who can read it.
      NodeKey aKey = NodeKey.loadOrCreate(new SpindleHome(tmp.resolve("a")));

      // A guessed capability: b lacks the module, and the parent refuses it as it refuses pages.
      Descriptor forged = d.withCapability(Capability.random());
      long refused = metric(ca, "spindle_remote_requests_refused");
      ApiException e =
          catchApi(() -> cb.resume(DescriptorSeal.seal(aKey, DescriptorCodec.encode(forged))));
      assertThat(e.status()).isEqualTo(502);
      assertThat(e.getMessage()).contains("module ").contains("unknown or released capability");
      assertThat(cb.sandboxes()).isEmpty();
      assertThat(metric(ca, "spindle_remote_requests_refused")).isGreaterThan(refused);
      assertThat(metric(ca, "spindle_remote_pages_served")).isZero();

      // The real descriptor works until released: as bytes (what the SDK sends), and as base64 in
      // JSON.
      SandboxInfo child = cb.resume(bytes);
      assertThat(cb.call(child.id(), "check_range", 0, 64, 5)).containsExactly(0L);
      RawHttp.Answer asJson =
          RawHttp.send(
              "POST",
              b.url + "/v1/resume",
              b.token(),
              "{\"descriptor\": \"" + f.descriptor() + "\", \"replay\": false}");
      assertThat(asJson.status()).as(asJson.body()).isEqualTo(201);
      String twin = asJson.json().path("id").asText();
      assertThat(cb.call(twin, "check_range", 64, 64, 5)).containsExactly(0L);
      RawHttp.Answer empty =
          RawHttp.sendBytes("POST", b.url + "/v1/resume", b.token(), new byte[0]);
      assertThat(empty.status()).isEqualTo(400);
      assertThat(empty.code()).isEqualTo("bad_descriptor");
      ca.releaseDescriptor(f.descriptorId());
      SandboxInfo late = cb.resume(bytes);
      assertThat(catchApi(() -> cb.call(late.id(), "check", 5)).getMessage())
          .containsPattern("page \\d+");

      // An expired descriptor is refused before anything runs.
      Descriptor expired = d.withExpiry(System.currentTimeMillis() - 1);
      ApiException gone =
          catchApi(() -> cb.resume(DescriptorSeal.seal(aKey, DescriptorCodec.encode(expired))));
      assertThat(gone.status()).isEqualTo(410);
      assertThat(gone.code()).isEqualTo("descriptor_expired");

      // Bytes that are no sealed descriptor are refused before anything else is read.
      assertThat(catchApi(() -> cb.resume(new byte[] {1, 2, 3})).code())
          .isEqualTo("unsigned_descriptor");
    }
  }

  @Test
  void onlySealedDescriptorsFromPeersResumeAndForksGoOnlyToPeers() throws Exception {
    Path store = tmp.resolve("pages");
    // a and b list each other; c lists them but neither lists c (it is not in their --peer).
    String cAddress = addresses.remove("c");
    try (DaemonProcess a = node("a", store);
        DaemonProcess b = node("b", store);
        DaemonProcess c =
            DaemonProcess.startAt(
                tmp.resolve("c"),
                cAddress,
                "1g",
                "--page-store",
                store.toString(),
                "--peer",
                "http://" + addresses.get("a"),
                "--peer",
                "http://" + addresses.get("b"))) {
      SpindleClient ca = a.client();
      SpindleClient cb = b.client();
      String parent = filled(ca, 4);
      byte[] sealed =
          Base64.getDecoder().decode(ca.fork(parent, new Fork(null, null, null)).descriptor());
      byte[] plain = DescriptorSeal.open(sealed, k -> true).descriptor();

      // The bare descriptor (what a CRC alone guarded), a flipped byte, another node's seal.
      ApiException unsigned = catchApi(() -> cb.resume(plain));
      assertThat(unsigned.status()).isEqualTo(403);
      assertThat(unsigned.code()).isEqualTo("unsigned_descriptor");
      byte[] altered = sealed.clone();
      altered[altered.length - 40] ^= 1;
      ApiException changed = catchApi(() -> cb.resume(altered));
      assertThat(changed.status()).isEqualTo(403);
      assertThat(changed.getMessage()).contains("altered");
      byte[] bySomeoneElse =
          DescriptorSeal.seal(NodeKey.loadOrCreate(new SpindleHome(tmp.resolve("c"))), plain);
      ApiException foreign = catchApi(() -> cb.resume(bySomeoneElse));
      assertThat(foreign.code()).isEqualTo("untrusted_descriptor");
      assertThat(foreign.getMessage()).contains("--peer");
      assertThat(cb.sandboxes()).isEmpty();

      // c trusts a, but a does not fork to c, and b does not resume what c seals.
      String cToken = c.token();
      ApiException notAPeer = catchApi(() -> ca.fork(parent, new Fork(c.url, cToken, null, false)));
      assertThat(notAPeer.status()).isEqualTo(403);
      assertThat(notAPeer.code()).isEqualTo("not_a_peer");
      SpindleClient cc = c.client();
      String cParent = filled(cc, 6);
      byte[] fromC =
          Base64.getDecoder().decode(cc.fork(cParent, new Fork(null, null, null)).descriptor());
      assertThat(catchApi(() -> cb.resume(fromC)).code()).isEqualTo("untrusted_descriptor");

      // The sealed descriptor from a peer resumes, and so does a fork straight to the peer.
      assertThat(cb.call(cb.resume(sealed).id(), "check_range", 0, 64, 4)).containsExactly(0L);
      ForkResult direct = ca.fork(parent, new Fork(b.url, b.token(), null, false));
      assertThat(cb.call(direct.child().id(), "check", 4)).containsExactly(0L);
    }
  }

  @Test
  void aPageServiceOnEveryAddressNeedsTheAddressChildrenUse() throws Exception {
    Path store = tmp.resolve("pages");
    try (DaemonProcess a =
            node("a", store, "--page-listen", "0.0.0.0:0", "--page-advertise", "127.0.0.2");
        DaemonProcess b = node("b", store);
        DaemonProcess c = node("c", store, "--page-listen", "0.0.0.0:0")) {
      String parent = filled(a.client(), 5);
      ForkResult f = a.client().fork(parent, new Fork(b.url, b.token(), null, false));
      assertThat(a.client().descriptors().getFirst().id()).isEqualTo(f.descriptorId());
      assertThat(b.client().call(f.child().id(), "check", 5)).containsExactly(0L);
      assertThat(metric(b.client(), "spindle_remote_fallback_pages"))
          .as("every page came from a's service")
          .isZero();

      // Bound to every address with nothing advertised: the node runs, but will not write a
      // descriptor naming 0.0.0.0.
      SpindleClient cc = c.client();
      String other = filled(cc, 6);
      String bToken = b.token();
      ApiException e = catchApi(() -> cc.fork(other, new Fork(b.url, bToken, null, false)));
      assertThat(e.status()).isEqualTo(409);
      assertThat(e.code()).isEqualTo("no_page_address");
      assertThat(e.getMessage()).contains("--page-advertise");
    }
  }

  @Test
  void aNodeWithAnUnusablePageStoreDoesNotStart() {
    assertThatThrownBy(
            () -> DaemonProcess.start(tmp.resolve("c"), "--page-store", "s3://bucket").close())
        .hasMessageContaining("the daemon ended before listening")
        .hasMessageContaining("needs ?endpoint=URL");
  }

  /** Each node's address, chosen before any starts so that each can list the others with --peer. */
  private final java.util.Map<String, String> addresses = new java.util.LinkedHashMap<>();

  @org.junit.jupiter.api.BeforeEach
  void plan() throws Exception {
    addresses.put("a", "127.0.0.2:" + DaemonProcess.freePort());
    addresses.put("b", "127.0.0.3:" + DaemonProcess.freePort());
    addresses.put("c", "127.0.0.4:" + DaemonProcess.freePort());
  }

  /** Node {@code name} on its planned address, the other planned nodes its peers. */
  private DaemonProcess node(String name, Path store, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("--page-store", store.toString()));
    addresses.forEach(
        (other, address) -> {
          if (!other.equals(name)) {
            args.addAll(List.of("--peer", "http://" + address));
          }
        });
    args.addAll(List.of(extra));
    return DaemonProcess.startAt(
        tmp.resolve(name), addresses.get(name), "2g", args.toArray(String[]::new));
  }

  /** A reactor of fill.c with {@value #MIB} MiB filled with seed's pattern. */
  private static String filled(SpindleClient c, int seed) throws Exception {
    return filled(c, seed, MIB);
  }

  private static String filled(SpindleClient c, int seed, int mib) throws Exception {
    // Room for mib MiB of pattern on top of the guest's own pages.
    Limits roomy = new Limits(null, (mib + 16) * 16, null);
    SandboxInfo s =
        c.createSandboxes(
                new CreateSandboxes(
                    Wasm.bytes(TestGuests.reactor("fill")), null, null, 1, roomy, null))
            .getFirst();
    assertThat(c.call(s.id(), "fill", mib, seed)).containsExactly(0L);
    return s.id();
  }

  private static void awaitFallback(SpindleClient c, String id) throws InterruptedException {
    while (true) {
      String state =
          c.descriptors().stream()
              .filter(d -> d.id().equals(id))
              .findFirst()
              .orElseThrow()
              .fallback();
      assertThat(state).doesNotStartWith("failed");
      if (state.equals("ready")) {
        return;
      }
      Thread.sleep(20);
    }
  }

  static long metric(SpindleClient c, String name) {
    for (String line : c.metrics().split("\n")) {
      if (line.startsWith(name + " ")) {
        return (long) Double.parseDouble(line.substring(name.length() + 1).strip());
      }
    }
    throw new AssertionError("no metric " + name);
  }
}
