package dev.spindle.fork;

import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import dev.spindle.remote.Descriptor;
import dev.spindle.remote.PageServer;
import dev.spindle.remote.PageStore;
import dev.spindle.remote.RemotePageSource;
import dev.spindle.remote.RemotePages;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.Sandbox;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Remote fork of running sandboxes: the sandbox-level half over {@link RemotePages} (pages). The
 * fork module depends on the remote module, not the other way round, because the remote module
 * knows pages only while a sandbox's state (globals, tables, WASI, module) is this module's.
 */
public final class RemoteForks {
  /** The largest module fetched from a parent: CRuby's is ~20-30 MB. */
  private static final int MAX_MODULE = 256 << 20;

  private final Forks forks;

  public RemoteForks(Forks forks) {
    this.forks = forks;
  }

  /**
   * Prepares {@code guest} to continue elsewhere, between calls (the caller holds its lock): its
   * page table is taken as a live snapshot takes it (no page copied; the guest keeps running and
   * its later writes copy first, so the child sees this instant), its state (naming its module by
   * hash; the module is served under the descriptor's capability and saved in the store) becomes
   * the descriptor's state bytes, the table is exported on {@code server}, and its pages go to
   * {@code store} in the background.
   */
  public RemotePages.Prepared prepare(
      Guest guest,
      PageServer server,
      String advertisedHost,
      Duration ttl,
      PageStore store,
      Executor background)
      throws IOException {
    // Pages written since the last snapshot or fork are private now: they are the working set
    // the child replays in the background. (A snapshot makes every page shared again.)
    dev.spindle.memory.PagedMemory memory = guest.memory();
    int[] workingSet =
        java.util.stream.IntStream.range(0, memory.pages())
            .filter(i -> memory.state(i) == dev.spindle.memory.PageState.PRIVATE)
            .toArray();
    PageTable table = memory.snapshot();
    Reactor r = guest.reactor();
    // A descriptor must name no host path: the node resuming it would open that path as given. A
    // private directory without files goes as the list of its (empty) directories, made anew for
    // the child. When any holds a file, each goes as a Git tree in this node's files.git (a commit
    // over them all beside), served under the descriptor's capability and saved to the store.
    dev.spindle.sandbox.wasi.WasiState w = r.wasiState();
    java.util.Map<Integer, java.util.List<String>> privateDirs = new java.util.TreeMap<>();
    java.util.List<dev.spindle.sandbox.wasi.WasiState.Preopen> sent = new java.util.ArrayList<>();
    List<String> hostDirs =
        w.preopens().stream()
            .filter(p -> !forks.files().isPlainPrivate(p.hostPath()))
            .map(p -> p.guestPath())
            .toList();
    if (!hostDirs.isEmpty()) {
      throw new IOException(
          "a sandbox with preopened directories ("
              + hostDirs
              + ") cannot be forked to another node: its directories are host paths of this node");
    }
    boolean files = false;
    for (var p : w.preopens()) {
      files |= SandboxFiles.holdsFiles(p.hostPath());
    }
    String filesCommit = null;
    java.util.Map<Integer, String> privateTrees = new java.util.TreeMap<>();
    FilesExport export = null;
    if (files) {
      forks.files().fetchRemote(w.preopens());
      java.util.Map<String, FilesRepo.Change> byGuest = new java.util.LinkedHashMap<>();
      for (var p : w.preopens()) {
        byGuest.put(p.guestPath(), forks.files().change(p.hostPath()));
      }
      if (byGuest.size() != w.preopens().size()) {
        throw new IOException("two private directories share a guest path: " + byGuest.keySet());
      }
      FilesRepo repo = forks.files().repo();
      FilesRepo.Committed c = repo.commitForFork(byGuest);
      java.util.List<org.eclipse.jgit.lib.ObjectId> ids = new java.util.ArrayList<>();
      for (int i = 0; i < w.preopens().size(); i++) {
        org.eclipse.jgit.lib.ObjectId tree = c.trees().get(w.preopens().get(i).guestPath());
        privateTrees.put(i, tree.name());
        ids.add(tree);
      }
      ids.add(c.commit());
      filesCommit = c.commit().name();
      export = new FilesExport(repo.repo(), ids);
    }
    for (int i = 0; i < w.preopens().size(); i++) {
      var p = w.preopens().get(i);
      if (!files) {
        privateDirs.put(
            i, SandboxFiles.emptyDirs(p.guestPath(), p.hostPath(), ForkState.MAX_PRIVATE_DIRS));
      }
      sent.add(
          new dev.spindle.sandbox.wasi.WasiState.Preopen(p.guestPath(), java.nio.file.Path.of("")));
    }
    w = w.withPreopens(sent);
    SandboxState state =
        new SandboxState(guest.moduleSha256(), guest.imageRoot(), r.instanceState(), w);
    byte[] bytes =
        new ForkState(state, null, workingSet, privateDirs, filesCommit, privateTrees).toBytes();
    RemotePages.Prepared pages =
        RemotePages.prepare(
            table,
            bytes,
            forks.modules().get(guest.moduleSha256()),
            export,
            server,
            advertisedHost,
            ttl,
            store,
            background);
    if (export == null || store == null) {
      return pages;
    }
    // The files go to the store beside the pages: a child reads them once this node is gone.
    FilesExport toUpload = export;
    java.util.concurrent.CompletableFuture<Long> objects =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return toUpload.upload(store);
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            },
            background);
    return new RemotePages.Prepared(
        pages.descriptor(), pages.upload().thenCombine(objects, Long::sum));
  }

  /**
   * A resumed child and where its pages come from (for statistics). Closing it closes the guest and
   * stops its page source: a working-set replay still running would otherwise go on moving the
   * parent's working set for a child that is gone. The descriptor is not released (other children
   * may share it): {@link RemotePageSource#release()} does that.
   */
  public record Child(Guest guest, RemotePageSource pages) implements AutoCloseable {
    @Override
    public void close() {
      try {
        guest.close();
      } finally {
        pages.close();
      }
    }
  }

  /**
   * Continues the sandbox a descriptor describes, on this node: its module (this node's copy, else
   * fetched from the parent's page service or the store, checked against its SHA-256) is stored and
   * compiled once per module, its pages are all remote until first touch (from the parent's page
   * service, else {@code store}), and it gets its own random stream and clocks as a branch does. It
   * runs at once.
   *
   * @throws SnapshotDamagedException when the descriptor's state is not a sandbox state
   */
  public Child resume(Descriptor d, PageStore store, int readahead, Duration timeout)
      throws IOException {
    return resume(d, store, readahead, timeout, true);
  }

  /**
   * As above; with {@code replay} the parent's working set (the pages it wrote since its last
   * snapshot or fork, recorded in the descriptor) is fetched in the background, so the child's
   * first touches of them cost no round trip; without, only touched pages move.
   */
  public Child resume(
      Descriptor d, PageStore store, int readahead, Duration timeout, boolean replay)
      throws IOException {
    ForkState fs = ForkState.fromBytes(d.state());
    SandboxState s = fs.sandbox();
    boolean eachPrivate =
        java.util.stream.IntStream.range(0, s.wasi().preopens().size())
            .allMatch(i -> fs.privateDirs().containsKey(i) || fs.privateTrees().containsKey(i));
    if (!eachPrivate) {
      // Whoever wrote the descriptor chose these paths; this node maps no host directory for it.
      throw new SnapshotDamagedException(
          "the descriptor's sandbox has preopened directories "
              + s.wasi().preopens().stream().map(p -> p.guestPath()).toList()
              + ": a resumed sandbox gets no host directory, only private ones made here");
    }
    if (fs.module() != null) {
      forks.modules().put(s.moduleSha256(), fs.module());
    }
    RemotePages.Resumed resumed = RemotePages.resume(d, store, readahead, timeout);
    if (!forks.modules().has(s.moduleSha256())) {
      try {
        forks.modules().put(s.moduleSha256(), resumed.module().load(s.moduleSha256(), MAX_MODULE));
      } catch (RuntimeException e) {
        resumed.source().close();
        throw e;
      }
    }
    Sandbox sandbox = forks.sandboxFor(s.moduleSha256());
    java.util.List<dev.spindle.sandbox.wasi.WasiState.Preopen> own = new java.util.ArrayList<>();
    Reactor r;
    try {
      RemoteFiles files = null;
      if (fs.filesCommit() != null) {
        // The commit and every tree now (bounded), from the parent or the store; blobs on read.
        files =
            RemoteFiles.resume(
                forks.files().repo().repo(),
                resumed.source().objects(),
                org.eclipse.jgit.lib.ObjectId.fromString(fs.filesCommit()),
                fs.privateTrees().values().stream()
                    .map(org.eclipse.jgit.lib.ObjectId::fromString)
                    .toList());
      }
      for (int i = 0; i < s.wasi().preopens().size(); i++) {
        String tree = fs.privateTrees().get(i);
        java.nio.file.Path dir =
            tree == null
                ? forks.files().newPrivateRoot(fs.privateDirs().getOrDefault(i, List.of()))
                : forks
                    .files()
                    .remoteTreeDir(
                        files,
                        org.eclipse.jgit.lib.ObjectId.fromString(fs.filesCommit()),
                        org.eclipse.jgit.lib.ObjectId.fromString(tree));
        own.add(
            new dev.spindle.sandbox.wasi.WasiState.Preopen(
                s.wasi().preopens().get(i).guestPath(), dir));
      }
      var w = Forks.reseeded(s.wasi());
      r =
          sandbox.resumeReactor(
              s.instance(),
              w.withPreopens(own),
              limits -> PagedMemory.branch(limits, resumed.table()));
    } catch (IOException | RuntimeException e) {
      forks.files().release(own);
      resumed.source().close();
      throw e;
    }
    if (replay) {
      resumed.source().replayInBackground(fs.workingSet());
    }
    return new Child(
        new Guest(r, sandbox, s.moduleSha256(), null, s.imageRoot(), forks.files()),
        resumed.source());
  }
}
