package dev.spindle.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spindle.memory.PageTable;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;

/**
 * Page-service frames are outside bytes on both ends. Whatever a connection sends, the server
 * answers every well-formed frame with the answer the protocol gives it (the pages or hashes of the
 * export, or a refusal with its status) and drops the connection with an IOException at the first
 * malformed one, never anything else; and it serves on afterwards. Whatever an answer holds, the
 * child's parsers throw IOExceptions only. Half the server inputs are framed and carry a real
 * capability, so the fuzzer gets past the first checks. CI replays the seeds beside this class;
 * {@code JAZZER_FUZZ=1 mvn -pl remote test -Dtest=PageFrameFuzzTest} fuzzes.
 */
class PageFrameFuzzTest {
  private static final PageServer SERVER;
  private static final PageTable TABLE;

  /** Never named by a fuzzed frame: what shows that the server still serves after each input. */
  private static final Capability LIVE;

  static {
    try {
      SERVER = PageServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      TABLE = Patterns.filled(4, 1).snapshot();
      LIVE = SERVER.export(TABLE, Duration.ofDays(1));
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @FuzzTest(maxDuration = "30s")
  void serverAnswersOrDropsTheConnection(FuzzedDataProvider data) throws IOException {
    // An export per input: a fuzzed RELEASE ends it, and must not change what the next input gets.
    Capability cap = SERVER.export(TABLE, Duration.ofDays(1));
    try {
      ByteArrayOutputStream stream = new ByteArrayOutputStream();
      if (data.consumeBoolean()) {
        int type = data.consumeInt(0, 4);
        byte[] rest = data.consumeBytes(64);
        ByteBuffer f = ByteBuffer.allocate(4 + 2 + Capability.BYTES + rest.length);
        f.putInt(2 + Capability.BYTES + rest.length)
            .put((byte) PageProtocol.VERSION)
            .put((byte) type)
            .put(cap.bytes())
            .put(rest);
        stream.writeBytes(f.array());
      }
      stream.writeBytes(data.consumeRemainingAsBytes());
      byte[] requests = stream.toByteArray();

      ByteArrayOutputStream answers = new ByteArrayOutputStream();
      boolean dropped = false;
      try {
        SERVER.serve(
            new DataInputStream(new ByteArrayInputStream(requests)), new DataOutputStream(answers));
      } catch (IOException e) {
        dropped = true; // a malformed frame: the connection is dropped, which is the contract
      }

      // The frames the server had to answer: all up to the first malformed one, which drops it.
      List<PageProtocol.Frame> asked = new ArrayList<>();
      boolean malformed = false;
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(requests));
      try {
        for (PageProtocol.Frame f;
            (f = PageProtocol.read(in, PageProtocol.MAX_REQUEST)) != null; ) {
          asked.add(f);
        }
      } catch (IOException e) {
        malformed = true;
      }
      assertThat(dropped).as("dropped exactly when a frame is malformed").isEqualTo(malformed);

      DataInputStream got = new DataInputStream(new ByteArrayInputStream(answers.toByteArray()));
      boolean released = false;
      for (PageProtocol.Frame request : asked) {
        PageProtocol.Frame answer =
            PageProtocol.read(got, PageProtocol.maxResponse(PageTable.PAGE_SIZE));
        assertThat(answer).as("an answer to each well-formed frame").isNotNull();
        assertThat(answer.type()).isEqualTo(PageProtocol.PAGES);
        checkAnswer(request, answer.payload(), cap, released);
        if (request.type() == PageProtocol.RELEASE && names(request, cap)) {
          released = true;
        }
      }
      assertThat(PageProtocol.read(got, PageProtocol.maxResponse(PageTable.PAGE_SIZE)))
          .as("no answer without a request")
          .isNull();
      assertThat(SERVER.isExported(cap)).isEqualTo(!released);
      stillServes();
    } finally {
      SERVER.release(cap);
    }
  }

  /** The node stays up: over TCP, a child still gets its pages after every input. */
  @AfterAll
  static void serverStillServesOverTheNetwork() throws IOException {
    try (PageServer s = SERVER;
        PageClient c = new PageClient(s.address(), 10_000, PageTable.PAGE_SIZE)) {
      PageClient.Fetched f = c.fetch(LIVE, new int[] {2, 0});
      assertThat(f.pages()[0]).isEqualTo(page(2));
      assertThat(f.pages()[1]).isEqualTo(page(0));
    }
  }

  private static void stillServes() throws IOException {
    byte[] req =
        ByteBuffer.allocate(Capability.BYTES + 2 + 4)
            .put(LIVE.bytes())
            .putShort((short) 1)
            .putInt(1)
            .array();
    ByteArrayOutputStream frame = new ByteArrayOutputStream();
    PageProtocol.write(new DataOutputStream(frame), PageProtocol.GET_PAGES, req);
    ByteArrayOutputStream answer = new ByteArrayOutputStream();
    SERVER.serve(
        new DataInputStream(new ByteArrayInputStream(frame.toByteArray())),
        new DataOutputStream(answer));
    PageProtocol.Frame f =
        PageProtocol.read(
            new DataInputStream(new ByteArrayInputStream(answer.toByteArray())),
            PageProtocol.maxResponse(PageTable.PAGE_SIZE));
    assertThat(PageClient.pages(f, new int[] {1}, PageTable.PAGE_SIZE).pages()[0])
        .isEqualTo(page(1));
  }

  private static boolean names(PageProtocol.Frame f, Capability cap) {
    return f.payload().length >= Capability.BYTES
        && Arrays.equals(Arrays.copyOf(f.payload(), Capability.BYTES), cap.bytes());
  }

  /**
   * {@code answer} is what the protocol (PageProtocol) gives {@code request}, made with {@code cap}
   * ({@code released} or not) over TABLE, the only export a fuzzed frame can name.
   */
  private static void checkAnswer(
      PageProtocol.Frame request, byte[] answer, Capability cap, boolean released) {
    ByteBuffer p = ByteBuffer.wrap(request.payload());
    if (p.remaining() < Capability.BYTES) {
      assertRefused(answer, PageProtocol.BAD_REQUEST);
      return;
    }
    if (!names(request, cap) || released) {
      assertRefused(answer, PageProtocol.UNKNOWN_CAPABILITY);
      return;
    }
    p.position(Capability.BYTES);
    int type = request.type();
    if (type == PageProtocol.RELEASE) {
      assertThat(answer).containsExactly(PageProtocol.OK, 0, 0);
    } else if (type == PageProtocol.GET_MODULE && p.remaining() == 4) {
      assertRefused(answer, PageProtocol.NO_SUCH_PAGE); // TABLE is exported without a module
    } else if (type == PageProtocol.GET_HASHES && p.remaining() == 6) {
      int first = p.getInt();
      int count = Short.toUnsignedInt(p.getShort());
      if (count < 1
          || count > PageProtocol.MAX_HASHES
          || first < 0
          || first > TABLE.pages() - count) {
        assertRefused(answer, PageProtocol.NO_SUCH_PAGE);
        return;
      }
      ByteBuffer a = ok(answer, count, PageProtocol.HASH);
      for (int i = first; i < first + count; i++) {
        assertThat(bytes(a, PageProtocol.HASH)).isEqualTo(TABLE.sha256(i));
      }
    } else if (type != PageProtocol.GET_PAGES || p.remaining() < 2) {
      assertRefused(answer, PageProtocol.BAD_REQUEST);
    } else {
      int count = Short.toUnsignedInt(p.getShort());
      if (count < 1 || count > PageProtocol.MAX_BATCH || p.remaining() != 4 * count) {
        assertRefused(answer, PageProtocol.BAD_REQUEST);
        return;
      }
      int[] indices = new int[count];
      for (int i = 0; i < count; i++) {
        indices[i] = p.getInt();
        if (indices[i] < 0 || indices[i] >= TABLE.pages()) {
          assertRefused(answer, PageProtocol.NO_SUCH_PAGE);
          return;
        }
      }
      ByteBuffer a = ok(answer, count, 4 + PageProtocol.HASH + PageTable.PAGE_SIZE);
      for (int index : indices) {
        assertThat(a.getInt()).isEqualTo(index);
        assertThat(bytes(a, PageProtocol.HASH)).isEqualTo(TABLE.sha256(index));
        assertThat(bytes(a, PageTable.PAGE_SIZE)).isEqualTo(page(index));
      }
    }
  }

  /** An OK answer of {@code count} items of {@code size} bytes, positioned at the first. */
  private static ByteBuffer ok(byte[] answer, int count, int size) {
    assertThat(answer).hasSize(3 + count * size);
    ByteBuffer a = ByteBuffer.wrap(answer);
    assertThat(a.get()).isEqualTo((byte) PageProtocol.OK);
    assertThat(Short.toUnsignedInt(a.getShort())).isEqualTo(count);
    return a;
  }

  /** A refusal: the status, then a u16 length and as many bytes of a non-empty UTF-8 message. */
  private static void assertRefused(byte[] answer, int status) {
    ByteBuffer a = ByteBuffer.wrap(answer);
    assertThat(a.get()).as("status").isEqualTo((byte) status);
    int length = Short.toUnsignedInt(a.getShort());
    assertThat(length).isPositive().isEqualTo(a.remaining());
    String message = new String(answer, 3, length, StandardCharsets.UTF_8);
    assertThat(message).doesNotContain("\uFFFD");
  }

  private static byte[] bytes(ByteBuffer b, int n) {
    byte[] out = new byte[n];
    b.get(out);
    return out;
  }

  private static byte[] page(int index) {
    return bytes(TABLE.page(index), PageTable.PAGE_SIZE);
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
      PageProtocol.read(
          new DataInputStream(new ByteArrayInputStream(payload)), PageProtocol.MAX_REQUEST);
    } catch (IOException expected) {
      // contract
    }
  }
}
