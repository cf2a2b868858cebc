package dev.spindle.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.testing.Guests;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Guest calls made on a big-stack thread ({@link GuestThreads}) run on that thread, and keep every
 * rule of calls handed to a pooled thread: a runaway guest is stopped at its deadline, deep
 * recursion is a clean error, the caller's thread carries on with no interrupt left over, and calls
 * on several threads at once stop only the ones that ran too long.
 */
class InlineCallTest {
  private final ExecutorService guestThreads =
      Executors.newCachedThreadPool(GuestThreads.factory("test-guest"));

  @AfterEach
  void stop() {
    guestThreads.shutdownNow();
  }

  /**
   * A reactor sandbox with a short per-call timeout whose module is already parsed and compiled, so
   * that starting a reactor takes far less than the timeout even on a loaded machine.
   */
  private static Sandbox shortTimeout(Engine engine, Duration timeout) throws IOException {
    Sandbox base = Sandbox.builder(Guests.reactor("reactor")).engine(engine).build();
    base.startReactor().close();
    return base.withLimits(timeout, MemoryLimits.MAX_PAGES, 16 << 20);
  }

  private <T> T onGuestThread(Callable<T> body) throws Exception {
    return guestThreads.submit(body).get();
  }

  /** Records the thread that writes the guest's stdout. */
  private static final class WriterThread extends OutputStream {
    final AtomicReference<Thread> writer = new AtomicReference<>();

    @Override
    public void write(int b) {
      writer.set(Thread.currentThread());
    }

    @Override
    public void write(byte[] b, int off, int len) {
      writer.set(Thread.currentThread());
    }
  }

  @Test
  void aCallOnABigStackThreadRunsOnItAndOneOnAPlainThreadIsHandedOff() throws Exception {
    WriterThread out = new WriterThread();
    Sandbox hello = Sandbox.builder(Guests.command("hello")).stdout(out).build();

    Thread caller =
        onGuestThread(
            () -> {
              assertThat(GuestThreads.current()).isTrue();
              assertThat(hello.run().exitCode()).isZero();
              return Thread.currentThread();
            });
    assertThat(out.writer.get()).isSameAs(caller);

    assertThat(GuestThreads.current()).isFalse();
    assertThat(hello.run().exitCode()).isZero();
    assertThat(out.writer.get()).isNotSameAs(Thread.currentThread()).isNotSameAs(caller);
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void runawayCallIsStoppedAndTheThreadCarriesOnUninterrupted(Engine engine) throws Exception {
    Sandbox s = shortTimeout(engine, Duration.ofMillis(300));
    onGuestThread(
        () -> {
          try (Reactor r = s.startReactor();
              Reactor next = s.startReactor()) {
            assertThatThrownBy(() -> r.call("spin"))
                .isInstanceOfSatisfying(
                    SandboxLimitException.class,
                    e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.TIMEOUT))
                .hasMessageContaining("was stopped");
            assertThat(Thread.currentThread().isInterrupted())
                .as("the timer's interrupt is cleared")
                .isFalse();
            assertThat(next.call("add", 40, 2)).containsExactly(42);
          }
          return null;
        });
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void unboundedRecursionIsACleanErrorAndTheThreadCarriesOn(Engine engine) throws Exception {
    Sandbox s = Sandbox.builder(Guests.reactor("reactor")).engine(engine).build();
    onGuestThread(
        () -> {
          try (Reactor r = s.startReactor();
              Reactor next = s.startReactor()) {
            assertThatThrownBy(() -> r.call("recurse", 0))
                .isInstanceOf(SandboxException.class)
                .hasMessageContaining("call stack exhausted");
            assertThat(next.call("add", 1, 2)).containsExactly(3);
          }
          return null;
        });
  }

  @Test
  void guestBlockedReadingStdinIsStoppedByTheTimeout() throws Exception {
    PipedOutputStream neverWritten = new PipedOutputStream();
    Sandbox s =
        Sandbox.builder(Guests.command("hello"))
            .stdin(new PipedInputStream(neverWritten))
            .timeout(Duration.ofMillis(300))
            .build();
    try {
      onGuestThread(
          () -> {
            assertThatThrownBy(s::run)
                .isInstanceOfSatisfying(
                    SandboxLimitException.class,
                    e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.TIMEOUT));
            return null;
          });
    } finally {
      neverWritten.close();
    }
  }

  /**
   * An interrupt from someone other than the timer (a server stopping) stops the guest and stays
   * set.
   */
  @Test
  void anInterruptFromOutsideStopsTheGuestAndIsNotATimeout() throws Exception {
    Sandbox s = Sandbox.builder(Guests.reactor("reactor")).timeout(Duration.ofMinutes(5)).build();
    CountDownLatch started = new CountDownLatch(1);
    Future<Boolean> f =
        guestThreads.submit(
            () -> {
              try (Reactor r = s.startReactor()) {
                started.countDown();
                assertThatThrownBy(() -> r.call("spin"))
                    .isInstanceOf(SandboxException.class)
                    .isNotInstanceOf(SandboxLimitException.class)
                    .hasMessageContaining("interrupted");
                return Thread.interrupted();
              }
            });
    started.await();
    Thread.sleep(
        100); // let the call begin; if it has not, it is refused as interrupted, which passes too
    guestThreads.shutdownNow(); // interrupts its threads
    assertThat(f.get()).as("the interrupt is left for the caller").isTrue();
  }

  @Test
  void concurrentCallsStopOnlyTheOnesThatRanTooLong() throws Exception {
    Sandbox slow = shortTimeout(Engine.COMPILED, Duration.ofMillis(300));
    Sandbox fast =
        Sandbox.builder(Guests.reactor("reactor")).timeout(Duration.ofMinutes(5)).build();
    List<Future<?>> fs = new ArrayList<>();
    CountDownLatch spinnersDone = new CountDownLatch(2);
    for (int i = 0; i < 2; i++) {
      fs.add(
          guestThreads.submit(
              () -> {
                try (Reactor r = slow.startReactor()) {
                  for (int round = 0; round < 3; round++) {
                    try (Reactor again = slow.startReactor()) {
                      assertThatThrownBy(() -> again.call("spin"))
                          .isInstanceOfSatisfying(
                              SandboxLimitException.class,
                              e ->
                                  assertThat(e.limit())
                                      .isEqualTo(SandboxLimitException.Limit.TIMEOUT));
                    }
                  }
                  assertThat(r.call("add", 2, 2)).containsExactly(4);
                } finally {
                  spinnersDone.countDown();
                }
                return null;
              }));
    }
    for (int i = 0; i < 2; i++) {
      fs.add(
          guestThreads.submit(
              () -> {
                try (Reactor r = fast.startReactor()) {
                  long calls = 0;
                  // Calls all through the spinners' stops: a stray interrupt would kill one.
                  while (spinnersDone.getCount() > 0 || calls < 10_000) {
                    assertThat(r.call("add", calls, 1)).containsExactly(calls + 1);
                    calls++;
                  }
                  assertThat(Thread.currentThread().isInterrupted()).isFalse();
                }
                return null;
              }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
  }

  @Test
  void plainThreadsStillGetTimeoutsThroughTheHandOff() throws IOException {
    try (Reactor r = shortTimeout(Engine.COMPILED, Duration.ofMillis(300)).startReactor()) {
      assertThat(GuestThreads.current()).isFalse();
      assertThatThrownBy(() -> r.call("spin"))
          .isInstanceOfSatisfying(
              SandboxLimitException.class,
              e -> assertThat(e.limit()).isEqualTo(SandboxLimitException.Limit.TIMEOUT));
    }
  }
}
