package dev.spindle.sandbox;

import java.lang.invoke.VarHandle;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The timer that stops guest calls running on their callers' threads ({@link Watchdog}): one daemon
 * thread for all of them, which sleeps until the earliest deadline of the calls in flight and
 * interrupts each call's thread once its deadline has passed, then again every {@value
 * Watchdog#REINTERRUPT_MS} ms until the call ends (a host call may consume an interrupt).
 *
 * <p>A call costs the timer nothing in the common case: adding an entry wakes the timer only when
 * its deadline is earlier than the time the timer already means to wake at, and ending one never
 * does (the timer finds it gone when it wakes). With one timeout for every call, as on a node,
 * deadlines come in order and the timer wakes about once per timeout, or once per {@link
 * #IDLE_TICK_NANOS} when that is shorter.
 */
final class Deadlines {
  /** The longest the timer sleeps without looking. */
  private static final long IDLE_TICK_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static final long REINTERRUPT_NANOS =
      TimeUnit.MILLISECONDS.toNanos(Watchdog.REINTERRUPT_MS);

  private static final Set<Entry> ACTIVE = ConcurrentHashMap.newKeySet();

  /** When the timer will next look (System.nanoTime). */
  private static volatile long plannedWake = System.nanoTime();

  private static final Thread TIMER =
      Thread.ofPlatform().daemon().name("spindle-guest-timer").unstarted(Deadlines::loop);

  static {
    TIMER.start();
  }

  private Deadlines() {}

  /** One guest call in flight on {@code thread}. */
  static final class Entry {
    private final Thread thread;
    private volatile long nextCheck;
    private boolean ended;
    private boolean stopped;

    Entry(Thread thread, long deadline) {
      this.thread = thread;
      this.nextCheck = deadline;
    }

    /** Interrupts the call's thread, unless the call has ended: a late one would hit the caller. */
    synchronized void stop(long now) {
      if (!ended) {
        stopped = true;
        thread.interrupt();
        nextCheck = now + REINTERRUPT_NANOS;
      }
    }

    /** Ends the call; whether the timer interrupted it. */
    synchronized boolean end() {
      ended = true;
      return stopped;
    }
  }

  static Entry add(Thread thread, long deadline) {
    Entry e = new Entry(thread, deadline);
    ACTIVE.add(e);
    // Pairs with the fence in loop(): either the timer's second look sees this entry, or this
    // sees the wake time that look planned and wakes the timer when it is too late.
    VarHandle.fullFence();
    if (deadline - plannedWake < 0) {
      LockSupport.unpark(TIMER);
    }
    return e;
  }

  /** Ends {@code e}'s call; whether the timer interrupted it. */
  static boolean remove(Entry e) {
    boolean stopped = e.end();
    ACTIVE.remove(e);
    return stopped;
  }

  private static void loop() {
    while (true) {
      long now = System.nanoTime();
      long next = now + IDLE_TICK_NANOS;
      for (Entry e : ACTIVE) {
        if (e.nextCheck - now <= 0) {
          e.stop(now);
        }
        next = earlier(next, e.nextCheck);
      }
      plannedWake = next;
      VarHandle.fullFence();
      long planned = next;
      for (Entry e : ACTIVE) { // entries added while planning: wake for them too
        next = earlier(next, e.nextCheck);
      }
      if (next == planned) {
        LockSupport.parkNanos(next - System.nanoTime());
      }
    }
  }

  private static long earlier(long a, long b) {
    return b - a < 0 ? b : a;
  }
}
