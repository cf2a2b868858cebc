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
 * Runs guest code on its own thread and stops it at a deadline. Chicory 1.7.5 has no fuel
 * counter, but both engines poll the thread's interrupt flag: the interpreter on every call and
 * branch, the compiler's generated code at every loop back-edge and call
 * ({@code Shaded.checkInterruption}), throwing {@link ChicoryInterruptedException}. So
 * interrupting the guest thread really stops a runaway loop, compiled or not. A guest blocked in
 * a host call that ignores interrupts (a blocking stdin read) is stopped only when it returns.
 */
final class Watchdog {
    /** Guest recursion runs on the JVM stack in both engines; give it room. */
    private static final long GUEST_STACK_BYTES = 64L << 20;

    /** How long a stopped guest gets to unwind before the caller gives up on it. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private static final Duration REINTERRUPT = Duration.ofMillis(50);

    private Watchdog() {}

    /**
     * Guest threads, kept for reuse instead of a new 64 MiB-stack thread per call (a daemon makes
     * thousands of calls a second). A pooled thread runs one guest call at a time; the pool grows
     * when calls overlap and shrinks after a minute idle.
     */
    private static final ExecutorService GUESTS = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
            new SynchronousQueue<>(), task -> {
                Thread t = new Thread(null, task, "spindle-guest", GUEST_STACK_BYTES);
                t.setDaemon(true);
                return t;
            });

    /**
     * One guest call on a pooled thread. The thread is interrupted only while this call runs on
     * it ({@link #interrupt}), never after: a late interrupt would land in the next guest's call.
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
        Call<T> call = new Call<>(task, name);
        Future<T> future = GUESTS.submit(call);
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            boolean stopped = stop(call, future);
            throw new SandboxLimitException(SandboxLimitException.Limit.TIMEOUT, "guest ran longer than " + timeout
                    + (stopped ? " and was stopped" : " and did not stop within " + STOP_GRACE), null);
        } catch (InterruptedException e) {
            call.interrupt();
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while waiting for the guest", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ChicoryInterruptedException) {
                throw new SandboxLimitException(SandboxLimitException.Limit.TIMEOUT,
                        "guest ran longer than " + timeout + " and was stopped", cause);
            }
            throw Failures.translate(cause);
        }
    }

    /**
     * Interrupts the guest until it ends or the grace period is over. Once is not enough: a host
     * call may consume the interrupt (an {@code InterruptedIOException} clears the flag), and the
     * guest would then run on; interrupting again catches it at its next check.
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
}
