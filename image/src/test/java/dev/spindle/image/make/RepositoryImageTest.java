package dev.spindle.image.make;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.ImageVerifier;
import dev.spindle.image.Progress;
import dev.spindle.image.TestTrees;
import dev.spindle.image.VerifyReport;
import dev.spindle.testing.GitCli;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Images made from Git repositories: local path, file:// URL, and a real git daemon. */
class RepositoryImageTest {
  @TempDir Path tmp;
  Path repo;

  @BeforeEach
  void history() throws Exception {
    repo = Files.createDirectory(tmp.resolve("repo"));
    GitCli.run(repo, "init", "-q");
    TestTrees.random(repo, 1, 30);
    GitCli.run(repo, "add", "-A");
    GitCli.run(repo, "commit", "-q", "-m", "first");
    GitCli.run(repo, "tag", "v1");
    TestTrees.write(repo.resolve("second.txt"), "second commit\n");
    try (var files = Files.list(repo)) {
      Files.delete(files.filter(Files::isRegularFile).findFirst().orElseThrow());
    }
    GitCli.run(repo, "add", "-A");
    GitCli.run(repo, "commit", "-q", "-m", "second\n\nwith a body");
    GitCli.run(repo, "branch", "other", "v1");
  }

  private VerifyReport make(String source, MakeOptions o) throws IOException {
    Path img = tmp.resolve("img-" + System.nanoTime() + ".img");
    new ImageMaker(o, Progress.NONE).make(source, img);
    VerifyReport r = new ImageVerifier(Progress.NONE).verify(img);
    assertThat(r.problems()).isEmpty();
    return r;
  }

  @Test
  void localRepositoryKeepsItsCommitAndTree() throws Exception {
    VerifyReport r = make(repo.toString(), MakeOptions.defaults());
    assertThat(r.commit().commit().name()).isEqualTo(GitCli.run(repo, "rev-parse", "HEAD"));
    assertThat(r.commit().root().name()).isEqualTo(GitCli.run(repo, "rev-parse", "HEAD^{tree}"));
    assertThat(r.commit().message()).isEqualTo("second\n\nwith a body\n");
    assertThat(r.commit().authorIdent()).isEqualTo("Test <test@example.org>");
  }

  @Test
  void refsPickTheCommitAndHistoryStaysOut() throws Exception {
    for (String ref : new String[] {"v1", "other", "refs/tags/v1", "HEAD~1"}) {
      VerifyReport r = make("file://" + repo, MakeOptions.defaults().withRef(ref));
      assertThat(r.commit().root().name())
          .as(ref)
          .isEqualTo(GitCli.run(repo, "rev-parse", ref + "^{tree}"));
    }
    VerifyReport head = make(repo.toString(), MakeOptions.defaults());
    // Only the tip's commit + tree + blobs: the first commit's removed file is not in the pack.
    int reachable = GitCli.run(repo, "ls-tree", "-r", "-t", "HEAD").lines().toList().size();
    assertThat(head.objects()).isLessThanOrEqualTo(reachable + 2L);
  }

  @Test
  void unknownRefIsNamed() {
    assertThatThrownBy(() -> make(repo.toString(), MakeOptions.defaults().withRef("nope")))
        .hasMessageContaining("nope");
  }

  @Test
  void directoryOfARepositoryCanBeTakenAsPlainFiles() throws Exception {
    TestTrees.write(repo.resolve("uncommitted.txt"), "not in HEAD\n");
    VerifyReport files = make(repo.toString(), MakeOptions.defaults().withDirectoryAsFiles(true));
    assertThat(files.commit().root().name()).isEqualTo(GitCli.writeTree(repo));
    assertThat(files.commit().root().name())
        .isNotEqualTo(GitCli.run(repo, "rev-parse", "HEAD^{tree}"));
  }

  @Test
  void remoteRepositoryOverARealGitDaemon() throws Exception {
    Path base = Files.createDirectory(tmp.resolve("served"));
    GitCli.run(tmp, "clone", "-q", "--bare", repo.toString(), base.resolve("r.git").toString());
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process daemon =
        new ProcessBuilder(
                "git",
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                "--port=" + port,
                "--base-path=" + base,
                base.toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("daemon.log").toFile())
            .start();
    try {
      awaitPort(port);
      String url = "git://127.0.0.1:" + port + "/r.git";
      VerifyReport head = make(url, MakeOptions.defaults());
      assertThat(head.commit().commit().name()).isEqualTo(GitCli.run(repo, "rev-parse", "HEAD"));
      assertThat(head.commit().root().name())
          .isEqualTo(GitCli.run(repo, "rev-parse", "HEAD^{tree}"));
      VerifyReport v1 = make(url, MakeOptions.defaults().withRef("v1"));
      assertThat(v1.commit().root().name()).isEqualTo(GitCli.run(repo, "rev-parse", "v1^{tree}"));
      assertThatThrownBy(() -> make(url, MakeOptions.defaults().withRef("missing")))
          .hasMessageContaining("missing");
    } finally {
      daemon.destroy();
      if (!daemon.waitFor(10, TimeUnit.SECONDS)) {
        daemon.destroyForcibly();
      }
    }
  }

  private static void awaitPort(int port) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new AssertionError("git daemon did not listen on " + port);
  }
}
