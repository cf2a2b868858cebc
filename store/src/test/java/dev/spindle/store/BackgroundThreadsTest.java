package dev.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * Background threads run at nice 10, as the kernel reports it, and threads they start inherit it.
 */
class BackgroundThreadsTest {
  private static final Path SELF = Path.of("/proc/thread-self/stat");

  /** Field 19 of /proc/thread-self/stat: the calling thread's nice value. */
  private static int niceOfThisThread() {
    try {
      String stat = Files.readString(SELF);
      // The command name (field 2) may hold spaces: fields count from after its ')'.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Integer.parseInt(f[16]);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void backgroundThreadsRunAtNiceTenAndTheirChildrenInheritIt() throws Exception {
    assumeTrue(Files.isReadable(SELF), "Linux /proc");
    int mine = niceOfThisThread();
    assumeTrue(mine < BackgroundThreads.NICE, "the test JVM already runs at nice " + mine);
    ExecutorService pool =
        Executors.newSingleThreadExecutor(BackgroundThreads.factory("test-background"));
    try {
      CompletableFuture<int[]> seen = new CompletableFuture<>();
      pool.execute(
          () -> {
            int own = niceOfThisThread();
            CompletableFuture<Integer> child = new CompletableFuture<>();
            Thread t = new Thread(() -> child.complete(niceOfThisThread()));
            t.start();
            seen.complete(new int[] {own, child.join()});
          });
      int[] nice = seen.get();
      assertThat(nice[0]).isEqualTo(BackgroundThreads.NICE);
      assertThat(nice[1]).isEqualTo(BackgroundThreads.NICE);
    } finally {
      pool.shutdownNow();
    }
    assertThat(niceOfThisThread()).as("the caller's own priority is untouched").isEqualTo(mine);
  }

  @Test
  void normalPriorityOnRequestLeavesThreadsAlone() throws Exception {
    assumeTrue(Files.isReadable(SELF), "Linux /proc");
    int mine = niceOfThisThread();
    System.setProperty(BackgroundThreads.PRIORITY_PROPERTY, "normal");
    ExecutorService pool = Executors.newSingleThreadExecutor(BackgroundThreads.factory("test-n"));
    try {
      int nice = pool.submit(BackgroundThreadsTest::niceOfThisThread).get();
      assertThat(nice).isEqualTo(mine);
    } finally {
      System.clearProperty(BackgroundThreads.PRIORITY_PROPERTY);
      pool.shutdownNow();
    }
  }
}
