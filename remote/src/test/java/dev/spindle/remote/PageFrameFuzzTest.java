package dev.spindle.remote;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * Page-service frames are outside bytes on both ends. Whatever a connection sends, the server
 * answers or drops it with an IOException, never anything else; whatever an answer holds, the
 * child's parsers throw IOExceptions only. Half the server inputs are framed and carry a real
 * capability, so the fuzzer gets past the first checks. CI replays the seeds beside this class;
 * {@code JAZZER_FUZZ=1 mvn -pl remote test -Dtest=PageFrameFuzzTest} fuzzes.
 */
class PageFrameFuzzTest {
  private static final PageServer SERVER;
  private static final Capability CAP;

  static {
    try {
      SERVER = PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      CAP = SERVER.export(Patterns.filled(4, 1).snapshot(), Duration.ofDays(1));
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @FuzzTest(maxDuration = "30s")
  void serverAnswersOrDropsTheConnection(FuzzedDataProvider data) {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    if (data.consumeBoolean()) {
      int type = data.consumeInt(0, 4);
      byte[] rest = data.consumeBytes(64);
      ByteBuffer f = ByteBuffer.allocate(4 + 2 + Capability.BYTES + rest.length);
      f.putInt(2 + Capability.BYTES + rest.length).put((byte) PageProtocol.VERSION).put((byte) type)
          .put(CAP.bytes()).put(rest);
      stream.writeBytes(f.array());
    }
    stream.writeBytes(data.consumeRemainingAsBytes());
    ByteArrayOutputStream answers = new ByteArrayOutputStream();
    try {
      SERVER.serve(new DataInputStream(new ByteArrayInputStream(stream.toByteArray())),
          new DataOutputStream(answers));
    } catch (IOException dropped) {
      // a malformed frame: the connection is dropped, which is the contract
    }
  }

  @FuzzTest(maxDuration = "30s")
  void childParsersThrowOnlyIOExceptions(FuzzedDataProvider data) {
    int[] indices = {data.consumeInt(0, 3), data.consumeInt(0, 3)};
    int pageSize = data.consumeInt(0, 64);
    byte[] payload = data.consumeRemainingAsBytes();
    try {
      PageClient.pages(new PageProtocol.Frame(PageProtocol.PAGES, payload), indices, pageSize);
    } catch (IOException expected) {
      // contract
    }
    try {
      PageClient.hashes(new PageProtocol.Frame(PageProtocol.PAGES, payload), indices[0] + 1);
    } catch (IOException expected) {
      // contract
    }
    try {
      PageProtocol.read(new DataInputStream(new ByteArrayInputStream(payload)), PageProtocol.MAX_REQUEST);
    } catch (IOException expected) {
      // contract
    }
  }
}
