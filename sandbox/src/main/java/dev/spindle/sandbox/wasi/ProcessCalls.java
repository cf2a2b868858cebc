package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.ChicoryInterruptedException;
import com.dylibso.chicory.runtime.Memory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** {@code proc_exit}, {@code proc_raise}, {@code sched_yield} and {@code poll_oneoff}. */
final class ProcessCalls {
  private final FdTable fds;
  private final ClockRandomCalls clocks;

  ProcessCalls(FdTable fds, ClockRandomCalls clocks) {
    this.fds = fds;
    this.clocks = clocks;
  }

  void procExit(int code) {
    throw new WasiExit(code);
  }

  int procRaise(int signal) {
    return Errno.NOSYS;
  }

  /** Every {@code sock_*} call: no descriptor of a sandbox is a socket. */
  int notASocket(int fd) {
    fds.get(fd);
    return Errno.NOTSOCK;
  }

  int schedYield() {
    Thread.yield();
    return Errno.SUCCESS;
  }

  /**
   * Files and stdio are always ready, as on Linux, so fd subscriptions answer at once; when none is
   * subscribed the call sleeps until the earliest clock. The sleep is interruptible, so the
   * sandbox's watchdog stops a guest waiting here too.
   */
  int pollOneoff(Memory m, int in, int out, int nsubs, int neventsPtr) throws IOException {
    if (nsubs <= 0) {
      throw new WasiError(Errno.INVAL);
    }
    record Event(long userdata, int error, int type, long nbytes) {}
    List<Event> ready = new ArrayList<>();
    List<long[]> timers = new ArrayList<>(); // {userdata, relative timeout}
    for (int i = 0; i < nsubs; i++) {
      int sub = in + i * Abi.SUBSCRIPTION_SIZE;
      long userdata = m.readLong(sub);
      int type = m.read(sub + 8);
      switch (type) {
        case Abi.EVENTTYPE_CLOCK -> {
          int id = m.readInt(sub + 16);
          long timeout = m.readLong(sub + 24);
          int flags = m.readShort(sub + 40);
          try {
            long rel =
                (flags & Abi.SUBCLOCKFLAGS_ABSTIME) != 0 ? timeout - clocks.now(id) : timeout;
            timers.add(new long[] {userdata, Math.max(rel, 0)});
          } catch (WasiError e) {
            ready.add(new Event(userdata, e.errno(), type, 0));
          }
        }
        case Abi.EVENTTYPE_FD_READ, Abi.EVENTTYPE_FD_WRITE -> {
          int fd = m.readInt(sub + 16);
          try {
            ready.add(new Event(userdata, Errno.SUCCESS, type, readable(fds.get(fd), type)));
          } catch (WasiError e) {
            ready.add(new Event(userdata, e.errno(), type, 0));
          }
        }
        default -> throw new WasiError(Errno.INVAL);
      }
    }
    if (ready.isEmpty()) {
      long earliest = timers.stream().mapToLong(t -> t[1]).min().orElse(0);
      sleep(earliest);
      for (long[] t : timers) {
        if (t[1] <= earliest) {
          ready.add(new Event(t[0], Errno.SUCCESS, Abi.EVENTTYPE_CLOCK, 0));
        }
      }
    }
    for (int i = 0; i < ready.size(); i++) {
      Event e = ready.get(i);
      int ev = out + i * Abi.EVENT_SIZE;
      m.fill((byte) 0, ev, ev + Abi.EVENT_SIZE);
      m.writeLong(ev, e.userdata());
      m.writeShort(ev + 8, (short) e.error());
      m.writeByte(ev + 10, (byte) e.type());
      m.writeLong(ev + 16, e.nbytes());
    }
    m.writeI32(neventsPtr, ready.size());
    return Errno.SUCCESS;
  }

  private static long readable(FdEntry d, int type) throws IOException {
    if (type == Abi.EVENTTYPE_FD_WRITE) {
      return 0;
    }
    return switch (d) {
      case StdioFd s -> s.available();
      case FileFd f -> Math.max(0, f.channel().size() - f.offset());
      case DirFd _ -> throw new WasiError(Errno.BADF);
    };
  }

  private static void sleep(long nanos) {
    try {
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ChicoryInterruptedException("interrupted in poll_oneoff");
    }
  }
}
