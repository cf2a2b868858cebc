package dev.spindle.store;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads for work that must not delay a sandbox: a live snapshot's writer and its hashing workers.
 * Each lowers its own scheduling priority (Linux nice {@value #NICE}) when it starts.
 *
 * <p>Why: on a small machine the writer and its workers are woken by the very call that returns to
 * the guest, and the kernel's wakeup preemption then lets them take the caller's core for a whole
 * time slice (3-4 ms), which was the live-pause tail (p99 4 ms wall against 0.6 ms of the caller's
 * CPU at 1 GiB on 2 cores). At nice {@value #NICE} they weigh a tenth of a normal thread: they
 * still use every idle cycle, but a guest or request thread that wants its core gets it back at
 * once. Lowering one's own priority needs no privilege. Elsewhere than Linux, or when the native
 * call is not allowed, the threads run at normal priority.
 */
@SuppressWarnings("restricted") // FFM into libc; the JVM runs with --enable-native-access
public final class BackgroundThreads {
  /** Nice value of background threads: weight 110 against 1,024 for a normal thread. */
  static final int NICE = 10;

  /**
   * Set to {@code normal} to run background threads at normal priority (a benchmark's baseline).
   */
  public static final String PRIORITY_PROPERTY = "spindle.background.priority";

  private static final int PRIO_PROCESS = 0;
  private static final MethodHandle GETTID;
  private static final MethodHandle SETPRIORITY;
  private static final MethodHandle GETPRIORITY;

  static {
    MethodHandle gettid = null;
    MethodHandle setpriority = null;
    MethodHandle getpriority = null;
    if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      try {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        gettid =
            libc.find("gettid")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.JAVA_INT)))
                .orElse(null);
        setpriority =
            libc.find("setpriority")
                .map(
                    s ->
                        linker.downcallHandle(
                            s,
                            FunctionDescriptor.of(
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT)))
                .orElse(null);
        getpriority =
            libc.find("getpriority")
                .map(
                    s ->
                        linker.downcallHandle(
                            s,
                            FunctionDescriptor.of(
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)))
                .orElse(null);
      } catch (RuntimeException e) {
        // no native access: normal priority
        gettid = null;
        setpriority = null;
        getpriority = null;
      }
    }
    GETTID = gettid;
    SETPRIORITY = setpriority;
    GETPRIORITY = getpriority;
  }

  private BackgroundThreads() {}

  /**
   * A factory of daemon threads named {@code name-N} that run at background priority. The priority
   * is set by the thread itself (Linux's nice value is per thread).
   */
  public static ThreadFactory factory(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t =
          new Thread(
              () -> {
                lowerPriority();
                r.run();
              },
              name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Lowers the calling thread's priority to nice {@value #NICE}; false where that is not possible
   * (not Linux, no native access, or the call failed). Never raises it.
   */
  public static boolean lowerPriority() {
    // Read at each thread start, so that a benchmark can compare both in one run.
    if ("normal".equals(System.getProperty(PRIORITY_PROPERTY))) {
      return false;
    }
    if (GETTID == null || SETPRIORITY == null || GETPRIORITY == null) {
      return false;
    }
    try {
      int tid = (int) GETTID.invokeExact();
      // The JVM may already run lower (nice 15 under a batch scheduler): keep that.
      if ((int) GETPRIORITY.invokeExact(PRIO_PROCESS, tid) >= NICE) {
        return true;
      }
      return (int) SETPRIORITY.invokeExact(PRIO_PROCESS, tid, NICE) == 0;
    } catch (Throwable e) {
      return false;
    }
  }
}
