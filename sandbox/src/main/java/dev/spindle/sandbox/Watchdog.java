package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.ChicoryInterruptedException;
import java.time.Duration;
import java.util.concurrent.Callable;

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
     * Interrupts the guest until it ends or the grace period is over. Once is not enough: a host
     * call may consume the interrupt (an {@code InterruptedIOException} clears the flag), and the
     * guest would then run on; interrupting again catches it at its next check.
     */
    private static void stop(Thread guest) throws InterruptedException {
        long deadline = System.nanoTime() + STOP_GRACE.toNanos();
        while (guest.isAlive() && System.nanoTime() < deadline) {
            guest.interrupt();
            guest.join(REINTERRUPT);
        }
    }

    static <T> T run(String name, Duration timeout, Callable<T> task) {
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread guest = new Thread(null, () -> {
            try {
                result[0] = task.call();
            } catch (Throwable t) {
                failure[0] = t;
            }
        }, name, GUEST_STACK_BYTES);
        guest.setDaemon(true);
        guest.start();
        boolean timedOut = false;
        try {
            guest.join(timeout);
            if (guest.isAlive()) {
                timedOut = true;
                stop(guest);
            }
        } catch (InterruptedException e) {
            guest.interrupt();
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while waiting for the guest", e);
        }
        if (timedOut || failure[0] instanceof ChicoryInterruptedException) {
            String how = guest.isAlive() ? " and did not stop within " + STOP_GRACE : " and was stopped";
            throw new SandboxLimitException(SandboxLimitException.Limit.TIMEOUT,
                    "guest ran longer than " + timeout + how, failure[0]);
        }
        if (failure[0] != null) {
            throw Failures.translate(failure[0]);
        }
        @SuppressWarnings("unchecked")
        T t = (T) result[0];
        return t;
    }
}
