package dev.spindle.remote;

import dev.spindle.memory.PagedMemory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;

/**
 * A parent node in its own process, for tests with real sockets between real processes: fills a
 * memory with the test pattern, prepares a fork, uploads its pages to a directory store, writes the
 * descriptor to a file, then serves until killed. Args: PAGES SEED DESCRIPTOR_OUT STORE_DIR
 */
public final class PageServerProcess {
  private PageServerProcess() {}

  public static void main(String[] args) throws Exception {
    int pages = Integer.parseInt(args[0]);
    int seed = Integer.parseInt(args[1]);
    Path out = Path.of(args[2]);
    PagedMemory m = Patterns.filled(pages, seed);
    PageServer server =
        PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    RemotePages.Prepared p =
        RemotePages.prepare(
            m.snapshot(),
            "{}".getBytes(),
            server,
            "127.0.0.1",
            Duration.ofMinutes(5),
            new DirectoryPageStore(Path.of(args[3])),
            Executors.newSingleThreadExecutor());
    p.upload().get();
    Path tmp = Files.createTempFile(out.getParent(), "desc", ".tmp");
    Files.write(tmp, DescriptorCodec.encode(p.descriptor()));
    Files.move(tmp, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    // The parent keeps running and writing: the child must never see these writes.
    for (int round = 0; ; round++) {
      for (int a = 0; a < pages * Patterns.PAGE; a += 4096) {
        m.writeI32(a, round);
      }
      Thread.sleep(10);
    }
  }
}
