package dev.spindle.sandbox;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads with a stack big enough for guest code. Guest recursion runs on the JVM stack in both
 * engines, so a guest call needs far more than the JVM's default 1 MiB (8 MiB main thread) to reach
 * the depth a native build of the same program reaches. A guest call made on one of these threads
 * runs right there, stopped at its deadline by a timer (see {@link Watchdog}); a call made on any
 * other thread is handed to a pooled thread of this kind and the caller waits, which costs a
 * hand-off each way (tens of microseconds on a loaded machine). Give a server's request threads
 * (the node's Jetty pool) or a load generator's threads this factory to save it.
 *
 * <p>The stack is reserved address space, committed only as deep as a call goes, so a pool of such
 * threads costs memory only while a guest recurses deeply.
 */
public final class GuestThreads {
  /** Guest recursion runs on the JVM stack in both engines; give it room. */
  public static final long STACK_BYTES = 64L << 20;

  private GuestThreads() {}

  /** What marks a thread as big-stack: only this class makes them. */
  private static final class GuestThread extends Thread {
    GuestThread(Runnable task, String name) {
      super(null, task, name, STACK_BYTES);
    }
  }

  /**
   * Daemon platform threads named {@code prefix-N} with a {@value #STACK_BYTES}-byte stack. A
   * caller may rename them or change their daemon flag before starting them (Jetty does).
   */
  public static ThreadFactory factory(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return task -> {
      Thread t = new GuestThread(task, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Whether the current thread has a guest-sized stack (was made by {@link #factory}). */
  public static boolean current() {
    return Thread.currentThread() instanceof GuestThread;
  }
}
