package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.ChicoryInterruptedException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs guest code and stops it at a deadline. Chicory 1.7.5 has no fuel counter, but both engines
 * poll the thread's interrupt flag: the interpreter on every call and branch, the compiler's
 * generated code at every loop back-edge and call ({@code Shaded.checkInterruption}), throwing
 * {@link ChicoryInterruptedException}. So interrupting the guest's thread really stops a runaway
 * loop, compiled or not. A guest blocked in a host call that ignores interrupts (a blocking stdin
 * read) is stopped only when it returns.
 *
 * <p>Two ways to run, one behaviour:
 *
 * <ul>
 *   <li>On the caller's thread, when it has a guest-sized stack ({@link GuestThreads#current()}):
 *       {@link Deadlines}' one timer thread interrupts it at the deadline, and again every {@value
 *       #REINTERRUPT_MS} ms until the guest returns. No hand-off, so a call costs what the guest
 *       costs (bench/api: in-process p50 46 µs with the hand-off, a few µs without). The caller
 *       waits for the guest to return, however long a host call that ignores interrupts takes.
 *   <li>On any other thread, handed to a pooled big-stack thread; the caller gives up on a guest
 *       that has not stopped {@link #STOP_GRACE} after its deadline (the thread is left to it).
 * </ul>
 */
final class Watchdog {
  /** How long a stopped guest gets to unwind before the caller gives up on it. */
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  static final long REINTERRUPT_MS = 50;

  private static final Duration REINTERRUPT = Duration.ofMillis(REINTERRUPT_MS);

  private Watchdog() {}

  /**
   * Guest threads, kept for reuse instead of a new 64 MiB-stack thread per call (a daemon makes
   * thousands of calls a second). A pooled thread runs one guest call at a time; the pool grows
   * when calls overlap and shrinks after a minute idle.
   */
  private static final ExecutorService GUESTS =
      new ThreadPoolExecutor(
          0,
          Integer.MAX_VALUE,
          60,
          TimeUnit.SECONDS,
          new SynchronousQueue<>(),
          GuestThreads.factory("spindle-guest"));

  /**
   * One guest call on a pooled thread. The thread is interrupted only while this call runs on it
   * ({@link #interrupt}), never after: a late interrupt would land in the next guest's call.
   */
  private static final class Call<T> implements Callable<T> {
    private final Callable<T> task;
    private final String name;
    private Thread runner;
    private boolean done;

    Call(Callable<T> task, String name) {
      this.task = task;
      this.name = name;
    }

    @Override
    public T call() throws Exception {
      Thread self = Thread.currentThread();
      String previous = self.getName();
      synchronized (this) {
        runner = self;
      }
      self.setName(name);
      try {
        return task.call();
      } finally {
        synchronized (this) {
          done = true;
          runner = null;
          Thread.interrupted(); // clear what a stop delivered, before the thread is reused
        }
        self.setName(previous);
      }
    }

    synchronized void interrupt() {
      if (!done && runner != null) {
        runner.interrupt();
      }
    }

    synchronized boolean running() {
      return !done;
    }
  }

  static <T> T run(String name, Duration timeout, Callable<T> task) {
    if (GuestThreads.current()) {
      return runHere(timeout, task);
    }
    Call<T> call = new Call<>(task, name);
    Future<T> future = GUESTS.submit(call);
    try {
      return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      boolean stopped = stop(call, future);
      throw new SandboxLimitException(
          SandboxLimitException.Limit.TIMEOUT,
          "guest ran longer than "
              + timeout
              + (stopped ? " and was stopped" : " and did not stop within " + STOP_GRACE),
          null);
    } catch (InterruptedException e) {
      call.interrupt();
      Thread.currentThread().interrupt();
      throw new SandboxException("interrupted while waiting for the guest", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ChicoryInterruptedException) {
        throw new SandboxLimitException(
            SandboxLimitException.Limit.TIMEOUT,
            "guest ran longer than " + timeout + " and was stopped",
            cause);
      }
      throw Failures.translate(cause);
    }
  }

  /**
   * Interrupts the guest until it ends or the grace period is over. Once is not enough: a host call
   * may consume the interrupt (an {@code InterruptedIOException} clears the flag), and the guest
   * would then run on; interrupting again catches it at its next check.
   */
  private static boolean stop(Call<?> call, Future<?> future) {
    long deadline = System.nanoTime() + STOP_GRACE.toNanos();
    while (call.running() && System.nanoTime() < deadline) {
      call.interrupt();
      try {
        future.get(REINTERRUPT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // still running, or ended by the interrupt: look again
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return !call.running();
  }

  /**
   * One guest call on the caller's own (big-stack) thread. The timer's interrupt is cleared before
   * returning, so it never reaches the caller's later work; an interrupt from anyone else (a server
   * stopping) stops the guest too and is left set for the caller to see.
   */
  private static <T> T runHere(Duration timeout, Callable<T> task) {
    Thread self = Thread.currentThread();
    if (self.isInterrupted()) {
      throw new SandboxException("interrupted before the guest call", null);
    }
    Deadlines.Entry entry = Deadlines.add(self, System.nanoTime() + timeout.toNanos());
    T result = null;
    Throwable failure = null;
    try {
      result = task.call();
    } catch (Throwable t) { // everything the pooled path reports through ExecutionException
      failure = t;
    }
    boolean stopped = Deadlines.remove(entry);
    if (stopped) {
      Thread.interrupted();
    }
    if (failure == null) {
      return result; // it finished as the timer fired: the result stands
    }
    if (stopped) {
      throw new SandboxLimitException(
          SandboxLimitException.Limit.TIMEOUT,
          "guest ran longer than " + timeout + " and was stopped",
          failure);
    }
    if (failure instanceof ChicoryInterruptedException) {
      throw new SandboxException("interrupted while the guest ran", failure);
    }
    throw Failures.translate(failure);
  }
}
