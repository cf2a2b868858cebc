package dev.spindle.daemon;

import dev.spindle.client.Api;
import dev.spindle.client.Api.Call;
import dev.spindle.client.Api.CallResult;
import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.Eval;
import dev.spindle.client.Api.Output;
import dev.spindle.client.Api.SandboxList;
import dev.spindle.client.Api.Snapshot;
import dev.spindle.sandbox.python.EvalResult;
import dev.spindle.store.Tag;
import java.util.List;
import java.util.Locale;

/** {@code /v1/sandboxes}: start, list, call, evaluate (Python), read output, snapshot, delete. */
final class SandboxRoutes {
  private final Sandboxes sandboxes;
  private final Catalog catalog;
  private final GuestSnapshots snapshots;

  SandboxRoutes(Sandboxes sandboxes, Catalog catalog, GuestSnapshots snapshots) {
    this.sandboxes = sandboxes;
    this.catalog = catalog;
    this.snapshots = snapshots;
  }

  void register(Router r) {
    r.add(
        "POST",
        "/v1/sandboxes",
        x -> x.json(201, new SandboxList(sandboxes.create(x.body(CreateSandboxes.class)))));
    r.add("GET", "/v1/sandboxes", x -> x.json(new SandboxList(sandboxes.list())));
    r.add("GET", "/v1/sandboxes/{id}", x -> x.json(sandboxes.get(x.param("id")).info()));
    r.add(
        "DELETE",
        "/v1/sandboxes/{id}",
        x -> {
          sandboxes.delete(x.param("id"));
          x.noContent();
        });
    r.add("POST", "/v1/sandboxes/{id}/call", this::call);
    r.add("POST", "/v1/sandboxes/{id}/eval", this::eval);
    r.add(
        "GET",
        "/v1/sandboxes/{id}/output",
        x -> {
          NodeSandbox g = sandboxes.get(x.param("id"));
          x.json(new Output(NodeSandbox.text(g.stdout()), NodeSandbox.text(g.stderr())));
        });
    r.add("POST", "/v1/sandboxes/{id}/snapshot", this::snapshot);
  }

  private void call(Exchange x) throws Exception {
    NodeSandbox g = sandboxes.get(x.param("id"));
    Call c = x.body(Call.class);
    if (c.export() == null || c.export().isEmpty()) {
      throw ApiError.badRequest(
          "bad_field", "field 'export' is required: the name of an exported function");
    }
    List<Long> a = c.args() == null ? List.of() : c.args();
    long[] args = new long[a.size()];
    for (int i = 0; i < args.length; i++) {
      if (a.get(i) == null) {
        throw ApiError.badRequest("bad_field", "field 'args[" + i + "]' must be a number");
      }
      args[i] = a.get(i);
    }
    long[] out = g.call(c.export(), args);
    x.json(new CallResult(java.util.Arrays.stream(out).boxed().toList()));
  }

  private void eval(Exchange x) throws Exception {
    NodeSandbox g = sandboxes.get(x.param("id"));
    Eval e = x.body(Eval.class);
    if (e.code() == null) {
      throw ApiError.badRequest("bad_field", "field 'code' is required: Python source");
    }
    EvalResult r = g.eval(e.code());
    EvalResult.Error err = r.error();
    x.json(
        new Api.EvalResult(
            r.stdout(),
            r.stderr(),
            r.value(),
            err == null ? null : new Api.EvalError(err.type(), err.message(), err.traceback())));
  }

  /**
   * Claims the tag (409 when taken), then hands the guest to the {@link SnapshotService}. With
   * {@code wait} the answer is the ready snapshot (201); without, 202 with status {@code writing}.
   */
  private void snapshot(Exchange x) throws Exception {
    NodeSandbox g = sandboxes.get(x.param("id"));
    Snapshot s = x.body(Snapshot.class);
    Tag tag = Catalog.tag(s.tag(), "tag");
    SnapshotService.Mode mode = mode(s.mode());
    GuestSnapshots.Taken taken = snapshots.take(g, tag, mode);
    if (Boolean.FALSE.equals(s.awaitReady())) {
      x.json(202, catalog.get(tag.value()));
    } else {
      x.json(201, taken.settled().get());
    }
  }

  private static SnapshotService.Mode mode(String m) {
    if (m == null) {
      return SnapshotService.Mode.FULL;
    }
    return switch (m.toLowerCase(Locale.ROOT)) {
      case "full" -> SnapshotService.Mode.FULL;
      case "live" -> SnapshotService.Mode.LIVE;
      default ->
          throw ApiError.badRequest(
              "bad_field", "field 'mode' must be full or live, got '" + m + "'");
    };
  }
}
