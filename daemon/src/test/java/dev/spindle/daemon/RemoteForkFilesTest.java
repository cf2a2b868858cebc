package dev.spindle.daemon;

import static dev.spindle.daemon.RemoteForkApiTest.metric;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.Dir;
import dev.spindle.client.Api.Fork;
import dev.spindle.client.Api.ForkResult;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.client.Api.Wasm;
import dev.spindle.client.SpindleClient;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote fork of a sandbox whose private directory holds files, between two real nodes (daemon
 * processes on loopback, each with its own home): the C reactor {@code files.c} writes files on one
 * node and reads them on the other, with no pull beforehand. The child's node fetches the trees at
 * resume and a file's blob when the guest reads it, from the parent's node, else the store.
 */
@Requires(Tool.CLANG)
class RemoteForkFilesTest {
  private static final int HOME = 2;
  private static final long ENOENT = -44;
  private static final int FILES = 10;
  private static final int SIZE = 64 << 10;

  @TempDir Path tmp;

  private final java.util.Map<String, String> addresses = new java.util.LinkedHashMap<>();

  @BeforeEach
  void plan() throws Exception {
    addresses.put("a", "127.0.0.2:" + DaemonProcess.freePort());
    addresses.put("b", "127.0.0.3:" + DaemonProcess.freePort());
  }

  private DaemonProcess node(String name, Path store) throws Exception {
    List<String> args = new ArrayList<>(List.of("--page-store", store.toString()));
    addresses.forEach(
        (other, address) -> {
          if (!other.equals(name)) {
            args.addAll(List.of("--peer", "http://" + address));
          }
        });
    return DaemonProcess.startAt(
        tmp.resolve(name), addresses.get(name), "1g", args.toArray(String[]::new));
  }

  private static long call(SpindleClient c, String id, String export, long... args) {
    return c.call(id, export, args).getFirst();
  }

  /** A files reactor with a scratch /home holding FILES files of SIZE bytes (file n: seed n). */
  private static String withFiles(SpindleClient c) {
    String id =
        c.createSandboxes(
                new CreateSandboxes(Wasm.bytes(TestGuests.reactor("files")))
                    .withDirs(List.of(Dir.scratch("/home"))))
            .getFirst()
            .id();
    for (int n = 0; n < FILES; n++) {
      assertThat(call(c, id, "write_big", HOME, n, SIZE, n)).isZero();
    }
    assertThat(call(c, id, "write_file", HOME, 100, 42)).isZero();
    return id;
  }

  @Test
  void childReadsItsParentsFilesWithoutAPullMovingWhatItReads() throws Exception {
    Path store = tmp.resolve("store");
    try (DaemonProcess a = node("a", store);
        DaemonProcess b = node("b", store)) {
      SpindleClient ca = a.client();
      SpindleClient cb = b.client();
      String parent = withFiles(ca);
      ForkResult f = ca.fork(parent, new Fork(b.url, b.token(), null, false));
      String child = f.child().id();
      long atResume = metric(cb, "spindle_remote_file_bytes_fetched");
      assertThat(atResume).as("the commit and the tree only").isPositive().isLessThan(SIZE / 8);

      // Listing the directory needs its tree only; reading one file moves that file.
      assertThat(call(cb, child, "count", HOME)).isEqualTo(FILES + 1);
      assertThat(call(cb, child, "check_big", HOME, 3, 3)).isEqualTo(SIZE);
      long fetched = metric(cb, "spindle_remote_file_bytes_fetched");
      assertThat(fetched - atResume).as("one file of " + FILES).isEqualTo(SIZE);
      assertThat(metric(ca, "spindle_remote_file_bytes_served")).isEqualTo(fetched);
      assertThat(call(cb, child, "check_big", HOME, 3, 3)).as("read again: local").isEqualTo(SIZE);
      assertThat(metric(cb, "spindle_remote_file_bytes_fetched")).isEqualTo(fetched);
      assertThat(call(cb, child, "read_file", HOME, 100)).isEqualTo(42);
      assertThat(metric(cb, "spindle_remote_file_fallback_objects")).isZero();

      // Each side's later writes stay its own.
      assertThat(call(cb, child, "write_file", HOME, 100, 43)).isZero();
      assertThat(call(ca, parent, "write_file", HOME, 101, 7)).isZero();
      assertThat(call(ca, parent, "read_file", HOME, 100)).isEqualTo(42);
      assertThat(call(cb, child, "read_file", HOME, 100)).isEqualTo(43);
      assertThat(call(cb, child, "read_file", HOME, 101)).isEqualTo(ENOENT);
      assertThat(call(cb, child, "remove_file", HOME, 4)).isZero();
      assertThat(call(ca, parent, "check_big", HOME, 4, 4)).isEqualTo(SIZE);

      // A snapshot of the child fetches the blobs it had not read (its branches read this node's
      // files.git alone), so they read every file with the parent's node gone.
      long beforeSnapshot = metric(cb, "spindle_remote_file_bytes_fetched");
      cb.snapshot(child, new Snapshot("kid", "live", true));
      assertThat(metric(cb, "spindle_remote_file_bytes_fetched") - beforeSnapshot)
          .as("the %s files not read (the removed one is still in the parent's tree)", FILES - 1)
          .isEqualTo((long) (FILES - 1) * SIZE);
      a.kill9();
      String grandchild = cb.createSandboxes(CreateSandboxes.branch("kid", 1)).getFirst().id();
      assertThat(call(cb, grandchild, "check_big", HOME, 5, 5)).isEqualTo(SIZE);
      assertThat(call(cb, grandchild, "read_file", HOME, 100)).isEqualTo(43);
      assertThat(call(cb, grandchild, "check_big", HOME, 4, 4)).isEqualTo(ENOENT);
    }
  }

  @Test
  void childReadsFromTheStoreOnceTheParentsNodeIsKilledAndRefusesADamagedObject() throws Exception {
    Path store = tmp.resolve("store");
    try (DaemonProcess a = node("a", store);
        DaemonProcess b = node("b", store)) {
      SpindleClient ca = a.client();
      SpindleClient cb = b.client();
      String parent = withFiles(ca);
      ForkResult f = ca.fork(parent, new Fork(b.url, b.token(), null, false));
      String child = f.child().id();
      awaitFallback(ca, f.descriptorId());
      a.kill9();

      assertThat(call(cb, child, "check_big", HOME, 5, 5)).isEqualTo(SIZE);
      assertThat(metric(cb, "spindle_remote_file_fallback_objects")).isPositive();

      // A store copy altered after the parent is gone: the child gets an error, never its bytes.
      String id = blobId(pattern(SIZE, 6));
      Path copy = store.resolve("objects").resolve(id.substring(0, 2)).resolve(id.substring(2));
      byte[] raw = Files.readAllBytes(copy);
      raw[raw.length - 1] ^= 1;
      Files.write(copy, raw);
      assertThat(call(cb, child, "check_big", HOME, 6, 6)).isNegative().isNotEqualTo(-1);
      assertThat(call(cb, child, "check_big", HOME, 7, 7)).isEqualTo(SIZE);
    }
  }

  private static byte[] pattern(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (seed + i * 7);
    }
    return b;
  }

  /** Git's id of a blob: plain SHA-1 here, as the oracle. */
  private static String blobId(byte[] content) throws Exception {
    MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
    sha1.update(
        ("blob " + content.length + "\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    return HexFormat.of().formatHex(sha1.digest(content));
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
}
