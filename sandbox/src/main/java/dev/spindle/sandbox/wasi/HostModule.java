package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.ChicoryInterruptedException;
import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.types.FunctionType;
import com.dylibso.chicory.wasm.types.ValType;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Binds each {@code wasi_snapshot_preview1} import to its plain Java method. Every call has the
 * same shape (i32/i64 parameters, an i32 errno result), so a signature string ({@code i} = i32,
 * {@code I} = i64) and one lambda per call are the whole binding; this is also the one place where
 * a failed call becomes its errno.
 */
final class HostModule {
  @FunctionalInterface
  interface Call {
    int apply(Memory m, long[] a) throws IOException;
  }

  private static final FunctionType PROC_EXIT = FunctionType.of(List.of(ValType.I32), List.of());

  private final List<HostFunction> functions = new ArrayList<>(46);

  private HostModule() {}

  static HostFunction[] functions(
      FdCalls fd, PathCalls path, ClockRandomCalls clock, ArgsEnvCalls argsEnv, ProcessCalls proc) {
    HostModule h = new HostModule();
    h.add("args_get", "ii", (m, a) -> argsEnv.argsGet(m, i(a[0]), i(a[1])));
    h.add("args_sizes_get", "ii", (m, a) -> argsEnv.argsSizesGet(m, i(a[0]), i(a[1])));
    h.add("environ_get", "ii", (m, a) -> argsEnv.environGet(m, i(a[0]), i(a[1])));
    h.add("environ_sizes_get", "ii", (m, a) -> argsEnv.environSizesGet(m, i(a[0]), i(a[1])));
    h.add("clock_res_get", "ii", (m, a) -> clock.clockResGet(m, i(a[0]), i(a[1])));
    h.add("clock_time_get", "iIi", (m, a) -> clock.clockTimeGet(m, i(a[0]), a[1], i(a[2])));
    h.add("random_get", "ii", (m, a) -> clock.randomGet(m, i(a[0]), i(a[1])));
    h.add("fd_advise", "iIIi", (m, a) -> fd.fdAdvise(i(a[0]), a[1], a[2], i(a[3])));
    h.add("fd_allocate", "iII", (m, a) -> fd.fdAllocate(i(a[0]), a[1], a[2]));
    h.add("fd_close", "i", (m, a) -> fd.fdClose(i(a[0])));
    h.add("fd_datasync", "i", (m, a) -> fd.fdDatasync(i(a[0])));
    h.add("fd_fdstat_get", "ii", (m, a) -> fd.fdFdstatGet(m, i(a[0]), i(a[1])));
    h.add("fd_fdstat_set_flags", "ii", (m, a) -> fd.fdFdstatSetFlags(i(a[0]), i(a[1])));
    h.add("fd_fdstat_set_rights", "iII", (m, a) -> fd.fdFdstatSetRights(i(a[0]), a[1], a[2]));
    h.add("fd_filestat_get", "ii", (m, a) -> fd.fdFilestatGet(m, i(a[0]), i(a[1])));
    h.add("fd_filestat_set_size", "iI", (m, a) -> fd.fdFilestatSetSize(i(a[0]), a[1]));
    h.add(
        "fd_filestat_set_times",
        "iIIi",
        (m, a) -> fd.fdFilestatSetTimes(i(a[0]), a[1], a[2], i(a[3])));
    h.add("fd_pread", "iiiIi", (m, a) -> fd.fdPread(m, i(a[0]), i(a[1]), i(a[2]), a[3], i(a[4])));
    h.add("fd_prestat_get", "ii", (m, a) -> fd.fdPrestatGet(m, i(a[0]), i(a[1])));
    h.add(
        "fd_prestat_dir_name", "iii", (m, a) -> fd.fdPrestatDirName(m, i(a[0]), i(a[1]), i(a[2])));
    h.add("fd_pwrite", "iiiIi", (m, a) -> fd.fdPwrite(m, i(a[0]), i(a[1]), i(a[2]), a[3], i(a[4])));
    h.add("fd_read", "iiii", (m, a) -> fd.fdRead(m, i(a[0]), i(a[1]), i(a[2]), i(a[3])));
    h.add(
        "fd_readdir", "iiiIi", (m, a) -> fd.fdReaddir(m, i(a[0]), i(a[1]), i(a[2]), a[3], i(a[4])));
    h.add("fd_renumber", "ii", (m, a) -> fd.fdRenumber(i(a[0]), i(a[1])));
    h.add("fd_seek", "iIii", (m, a) -> fd.fdSeek(m, i(a[0]), a[1], i(a[2]), i(a[3])));
    h.add("fd_sync", "i", (m, a) -> fd.fdSync(i(a[0])));
    h.add("fd_tell", "ii", (m, a) -> fd.fdTell(m, i(a[0]), i(a[1])));
    h.add("fd_write", "iiii", (m, a) -> fd.fdWrite(m, i(a[0]), i(a[1]), i(a[2]), i(a[3])));
    h.add(
        "path_create_directory",
        "iii",
        (m, a) -> path.pathCreateDirectory(m, i(a[0]), i(a[1]), i(a[2])));
    h.add(
        "path_filestat_get",
        "iiiii",
        (m, a) -> path.pathFilestatGet(m, i(a[0]), i(a[1]), i(a[2]), i(a[3]), i(a[4])));
    h.add(
        "path_filestat_set_times",
        "iiiiIIi",
        (m, a) ->
            path.pathFilestatSetTimes(m, i(a[0]), i(a[1]), i(a[2]), i(a[3]), a[4], a[5], i(a[6])));
    h.add(
        "path_link",
        "iiiiiii",
        (m, a) -> path.pathLink(m, i(a[0]), i(a[1]), i(a[2]), i(a[3]), i(a[4]), i(a[5]), i(a[6])));
    h.add(
        "path_open",
        "iiiiiIIii",
        (m, a) ->
            path.pathOpen(
                m, i(a[0]), i(a[1]), i(a[2]), i(a[3]), i(a[4]), a[5], a[6], i(a[7]), i(a[8])));
    h.add(
        "path_readlink",
        "iiiiii",
        (m, a) -> path.pathReadlink(m, i(a[0]), i(a[1]), i(a[2]), i(a[3]), i(a[4]), i(a[5])));
    h.add(
        "path_remove_directory",
        "iii",
        (m, a) -> path.pathRemoveDirectory(m, i(a[0]), i(a[1]), i(a[2])));
    h.add(
        "path_rename",
        "iiiiii",
        (m, a) -> path.pathRename(m, i(a[0]), i(a[1]), i(a[2]), i(a[3]), i(a[4]), i(a[5])));
    h.add(
        "path_symlink",
        "iiiii",
        (m, a) -> path.pathSymlink(m, i(a[0]), i(a[1]), i(a[2]), i(a[3]), i(a[4])));
    h.add("path_unlink_file", "iii", (m, a) -> path.pathUnlinkFile(m, i(a[0]), i(a[1]), i(a[2])));
    h.add("poll_oneoff", "iiii", (m, a) -> proc.pollOneoff(m, i(a[0]), i(a[1]), i(a[2]), i(a[3])));
    h.add("proc_raise", "i", (m, a) -> proc.procRaise(i(a[0])));
    h.add("sched_yield", "", (m, a) -> proc.schedYield());
    // Sockets are not offered: a sandbox has no network unless Spindle grants one later.
    h.add("sock_accept", "iii", (m, a) -> proc.notASocket(i(a[0])));
    h.add("sock_recv", "iiiiii", (m, a) -> proc.notASocket(i(a[0])));
    h.add("sock_send", "iiiii", (m, a) -> proc.notASocket(i(a[0])));
    h.add("sock_shutdown", "ii", (m, a) -> proc.notASocket(i(a[0])));
    h.functions.add(
        new HostFunction(
            Abi.MODULE,
            "proc_exit",
            PROC_EXIT,
            (inst, a) -> {
              proc.procExit(i(a[0]));
              return null;
            }));
    return h.functions.toArray(HostFunction[]::new);
  }

  private void add(String name, String signature, Call call) {
    functions.add(
        new HostFunction(
            Abi.MODULE,
            name,
            TYPES.computeIfAbsent(signature, HostModule::type),
            (instance, args) -> new long[] {invoke(call, instance.memory(), args)}));
  }

  /**
   * The function types by signature, made once: every sandbox and every branched child binds all
   * these functions, and building their types each time was 40 % of what a child allocated (about
   * 10 of 25 KB, sampled with JFR in bench/branch's guest). Types are immutable, so sharing them is
   * safe.
   */
  private static final Map<String, FunctionType> TYPES = new ConcurrentHashMap<>();

  private static FunctionType type(String signature) {
    List<ValType> params = new ArrayList<>();
    for (char c : signature.toCharArray()) {
      params.add(c == 'I' ? ValType.I64 : ValType.I32);
    }
    return FunctionType.of(params, List.of(ValType.I32));
  }

  /**
   * Runs a call, turning a WASI or file-system failure into its errno. Traps (bad guest pointers),
   * {@link WasiExit} and interruption pass through: they end the guest, not the call.
   */
  static int invoke(Call call, Memory m, long[] args) {
    try {
      return call.apply(m, args);
    } catch (InterruptedIOException | ClosedByInterruptException e) {
      // The sandbox is stopping the guest: keep the interrupt and end the guest, rather
      // than hand the guest an errno and let it run on.
      Thread.currentThread().interrupt();
      throw new ChicoryInterruptedException("interrupted in a WASI call");
    } catch (WasiError
        | IOException
        | UnsupportedOperationException
        | IllegalStateException
        | IllegalArgumentException
        | SecurityException e) {
      return Errno.of(e);
    }
  }

  private static int i(long v) {
    return (int) v;
  }
}
