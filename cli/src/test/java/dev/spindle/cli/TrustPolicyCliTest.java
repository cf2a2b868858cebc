package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.daemon.Daemon;
import dev.spindle.daemon.DaemonConfig;
import dev.spindle.store.SpindleHome;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that trusts keys ({@code spindle key trust}) pulls, mounts and runs only images signed by
 * one of them, and says which check failed: unsigned, signed by a key it does not trust, or altered
 * after signing. Pulls are checked before anything is stored, against the signature the serving
 * node holds.
 */
class TrustPolicyCliTest {
  @TempDir Path tmp;

  @Test
  void runAndMountNeedASignatureByATrustedKeyOnceTheNodeTrustsOne() throws Exception {
    CliRunner cli = new CliRunner(tmp.resolve("home"));
    Path src = Files.createDirectories(tmp.resolve("src/bin"));
    Files.copy(dev.spindle.testing.Guests.command("hello"), src.resolve("hello.wasm"));
    assertThat(cli.run("image", "make", src.getParent().toString(), "-t", "app", "-q").code())
        .isZero();
    Path key = tmp.resolve("key");
    Path other = tmp.resolve("other");
    assertThat(cli.run("key", "new", key.toString()).code()).isZero();
    assertThat(cli.run("key", "new", other.toString()).code()).isZero();

    // No trusted key: nothing is required.
    assertThat(cli.run("key", "list").out()).contains("no trusted keys");
    CliRunner.Result free =
        cli.run("run", "--image", "app", "--wasm", "/bin/hello.wasm", "--", "x");
    assertThat(free.out()).as(free.err()).isEqualTo("hello x\n");

    CliRunner.Result trusted = cli.run("key", "trust", key + ".pub");
    assertThat(trusted.code()).as(trusted.err()).isZero();
    String fp = trusted.out().split(" ")[2];
    assertThat(cli.run("key", "list").out()).contains(fp);

    CliRunner.Result unsigned =
        cli.run("run", "--image", "app", "--wasm", "/bin/hello.wasm", "--", "x");
    assertThat(unsigned.code()).isEqualTo(1);
    assertThat(unsigned.out()).isEmpty();
    assertThat(unsigned.err())
        .contains("image 'app' is unsigned")
        .contains("requires a signature by a trusted key");
    CliRunner.Result mount =
        cli.run("mount", "app", Files.createDirectories(tmp.resolve("mnt")).toString());
    assertThat(mount.code()).isEqualTo(1);
    assertThat(mount.err()).contains("image 'app' is unsigned");

    assertThat(cli.run("image", "sign", "app", "--key", other.toString()).code()).isZero();
    CliRunner.Result untrusted =
        cli.run("run", "--image", "app", "--wasm", "/bin/hello.wasm", "--", "x");
    assertThat(untrusted.code()).isEqualTo(1);
    assertThat(untrusted.err())
        .contains("is signed by key")
        .contains("which this node does not trust (trusted: " + fp);

    assertThat(cli.run("image", "sign", "app", "--key", key.toString()).code()).isZero();
    CliRunner.Result signed =
        cli.run("run", "--image", "app", "--wasm", "/bin/hello.wasm", "--", "x");
    assertThat(signed.out()).as(signed.err()).isEqualTo("hello x\n");

    // The signature names another commit and root now: altered.
    Path sig = tmp.resolve("home/images/app.img.sig");
    String original = Files.readString(sig);
    // Another first character than the one there (a fixed 'A' left 1 in 64 signatures unchanged).
    int at = original.indexOf("signature=") + "signature=".length();
    char swapped = original.charAt(at) == 'A' ? 'B' : 'A';
    String forged = original.substring(0, at) + swapped + original.substring(at + 1);
    assertThat(forged).isNotEqualTo(original);
    Files.writeString(sig, forged);
    CliRunner.Result altered =
        cli.run("run", "--image", "app", "--wasm", "/bin/hello.wasm", "--", "x");
    assertThat(altered.code()).isEqualTo(1);
    assertThat(altered.err()).contains("does not match its commit and root");

    assertThat(cli.run("key", "untrust", fp).code()).isZero();
    assertThat(cli.run("run", "--image", "app", "--wasm", "/bin/hello.wasm", "--", "x").out())
        .isEqualTo("hello x\n");
  }

  @Test
  void aPullIsCheckedBeforeAnythingIsStoredAndKeepsTheSignature() throws Exception {
    Path nodeHome = tmp.resolve("node");
    CliRunner node = new CliRunner(nodeHome);
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f.txt"), "x\n");
    assertThat(node.run("image", "make", src.toString(), "-t", "signed", "-q").code()).isZero();
    assertThat(node.run("image", "make", src.toString(), "-t", "plain", "-q").code()).isZero();
    Path key = tmp.resolve("key");
    assertThat(node.run("key", "new", key.toString()).code()).isZero();
    assertThat(node.run("image", "sign", "signed", "--key", key.toString()).code()).isZero();

    CliRunner cli = new CliRunner(tmp.resolve("puller"));
    assertThat(cli.run("key", "trust", key + ".pub").code()).isZero();
    try (Daemon d =
        Daemon.start(DaemonConfig.defaults(new SpindleHome(nodeHome)).listen("127.0.0.1:0"))) {
      for (String mode : new String[] {"", "--lazy"}) {
        String local = mode.isEmpty() ? "whole" : "lazy";
        CliRunner.Result plain =
            mode.isEmpty()
                ? cli.run(
                    "image", "pull", "plain", "--from", d.url(), "--token", d.token(), "-t", local)
                : cli.run(
                    "image", "pull", "plain", "--from", d.url(), "--token", d.token(), "-t", local,
                    mode);
        assertThat(plain.code()).isEqualTo(1);
        assertThat(plain.err()).contains("plain from " + d.url() + " is unsigned");
        assertThat(tmp.resolve("puller/images/" + local + ".img")).doesNotExist();

        CliRunner.Result ok =
            mode.isEmpty()
                ? cli.run(
                    "image", "pull", "signed", "--from", d.url(), "--token", d.token(), "-t", local)
                : cli.run(
                    "image", "pull", "signed", "--from", d.url(), "--token", d.token(), "-t", local,
                    mode);
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(tmp.resolve("puller/images/" + local + ".img.sig")).exists();
        assertThat(cli.run("image", "verify", local, "--key", key + ".pub").code()).isZero();
      }
    }
  }

  @Test
  void readsExtractAndImportNeedASignatureTooAndARefusalWritesNothing() throws Exception {
    CliRunner cli = new CliRunner(tmp.resolve("home"));
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f.txt"), "x\n");
    assertThat(cli.run("image", "make", src.toString(), "-t", "app", "-q").code()).isZero();
    Path key = tmp.resolve("key");
    assertThat(cli.run("key", "new", key.toString()).code()).isZero();
    Path file = tmp.resolve("app.img");
    assertThat(cli.run("image", "export", "app", file.toString()).code()).isZero();
    assertThat(tmp.resolve("app.img.sig")).doesNotExist();

    // No trusted key: nothing changes.
    assertThat(cli.run("image", "extract", "app", tmp.resolve("free").toString(), "-q").code())
        .isZero();
    assertThat(tmp.resolve("free/f.txt")).hasContent("x");
    CliRunner.Result freeImport = cli.run("image", "import", file.toString(), "-t", "plain", "-q");
    assertThat(freeImport.code()).as(freeImport.err()).isZero();

    assertThat(cli.run("key", "trust", key + ".pub").code()).isZero();
    Path out = tmp.resolve("out");
    CliRunner.Result extract = cli.run("image", "extract", "app", out.toString(), "-q");
    assertThat(extract.code()).isEqualTo(1);
    assertThat(extract.out()).isEmpty();
    assertThat(extract.err())
        .contains("image 'app' is unsigned")
        .contains("trusts 1 key")
        .contains("'spindle image sign app --key KEY'");
    assertThat(out).doesNotExist();
    for (String[] read :
        new String[][] {{"ls", "app"}, {"cat", "app", "f.txt"}, {"stat", "app", "f.txt"}}) {
      String[] args = new String[read.length + 1];
      args[0] = "image";
      System.arraycopy(read, 0, args, 1, read.length);
      CliRunner.Result r = cli.run(args);
      assertThat(r.code()).as(read[0]).isEqualTo(1);
      assertThat(r.out()).as(read[0]).isEmpty();
      assertThat(r.err()).as(read[0]).contains("image 'app' is unsigned");
    }

    CliRunner.Result imported = cli.run("image", "import", file.toString(), "-t", "copy", "-q");
    assertThat(imported.code()).isEqualTo(1);
    assertThat(imported.err())
        .contains("image file '" + file + "' is unsigned")
        .contains("'spindle image sign " + file + " --key KEY' writes app.img.sig beside it");
    try (var left = Files.list(tmp.resolve("home/images"))) {
      assertThat(left.map(p -> p.getFileName().toString()).sorted().toList())
          .as("nothing stored, no temporary file left")
          .containsExactly("app.img", "plain.img");
    }

    // What must work on any image still does: the catalog, verify, sign, rm.
    assertThat(cli.run("image", "list").out()).contains("app").contains("plain");
    assertThat(cli.run("image", "verify", "app").code()).isZero();
    assertThat(cli.run("image", "rm", "plain").code()).isZero();

    // Signed, the file imports with its signature, and the copy is usable.
    assertThat(cli.run("image", "sign", file.toString(), "--key", key.toString()).code()).isZero();
    CliRunner.Result signedImport = cli.run("image", "import", file.toString(), "-t", "copy", "-q");
    assertThat(signedImport.code()).as(signedImport.err()).isZero();
    assertThat(tmp.resolve("home/images/copy.img.sig")).exists();
    assertThat(cli.run("image", "cat", "copy", "f.txt").out()).isEqualTo("x\n");

    assertThat(cli.run("image", "sign", "app", "--key", key.toString()).code()).isZero();
    CliRunner.Result signedExtract = cli.run("image", "extract", "app", out.toString(), "-q");
    assertThat(signedExtract.code()).as(signedExtract.err()).isZero();
    assertThat(out.resolve("f.txt")).hasContent("x");
    assertThat(cli.run("image", "ls", "app").out()).isEqualTo("f.txt\n");

    // Export takes the signature along: another node trusting the key imports the file.
    Path shipped = tmp.resolve("shipped.img");
    assertThat(cli.run("image", "export", "app", shipped.toString()).code()).isZero();
    assertThat(tmp.resolve("shipped.img.sig")).exists();
    CliRunner other = new CliRunner(tmp.resolve("other"));
    assertThat(other.run("key", "trust", key + ".pub").code()).isZero();
    CliRunner.Result there = other.run("image", "import", shipped.toString(), "-t", "app", "-q");
    assertThat(there.code()).as(there.err()).isZero();
    assertThat(other.run("image", "cat", "app", "f.txt").out()).isEqualTo("x\n");
    assertThat(other.run("image", "cat", shipped.toString(), "f.txt").out()).isEqualTo("x\n");

    // A file's signature covers its commit and root: altered content beside a copied signature is
    // found by verifying the file whole before it is used.
    Path altered = tmp.resolve("altered.img");
    Files.copy(shipped, altered);
    Files.copy(tmp.resolve("shipped.img.sig"), tmp.resolve("altered.img.sig"));
    long at;
    try (dev.spindle.image.Image img =
        dev.spindle.image.Image.open(altered, dev.spindle.image.AccessMode.LAZY)) {
      at = img.header().packOffset() + img.header().packLength() / 2;
    }
    try (var ch =
        java.nio.channels.FileChannel.open(
            altered,
            java.nio.file.StandardOpenOption.READ,
            java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
      ch.read(b, at);
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) ~b.get(0)}), at);
    }
    CliRunner.Result tampered = other.run("image", "cat", altered.toString(), "f.txt");
    assertThat(tampered.code()).isEqualTo(1);
    assertThat(tampered.out()).isEmpty();
    assertThat(tampered.err())
        .contains("image '" + altered + "' does not hash up to the commit and root");
    CliRunner.Result tamperedImport =
        other.run("image", "import", altered.toString(), "-t", "altered", "-q");
    assertThat(tamperedImport.code()).isEqualTo(1);
    assertThat(tmp.resolve("other/images/altered.img")).doesNotExist();
  }
}
