package dev.spindle.daemon;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Prometheus text exposition (format 0.0.4), written by hand: a request counter and latency
 * histogram per route template (not per raw path, so tags and ids cannot explode the series),
 * requests in flight, and gauges read at scrape time from the node's state.
 */
public final class Metrics {
  /** Upper bounds in seconds: loopback calls take tens of microseconds, image makes seconds. */
  private static final double[] BUCKETS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    30
  };

  private record Key(String method, String route) {}

  private static final class Histogram {
    final LongAdder[] buckets = new LongAdder[BUCKETS.length];
    final LongAdder count = new LongAdder();
    final LongAdder sumNanos = new LongAdder();
    final Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();

    Histogram() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }
  }

  private final Map<Key, Histogram> requests = new ConcurrentHashMap<>();
  private final Map<String, Supplier<Number>> gauges = new ConcurrentHashMap<>();
  final AtomicInteger inFlight = new AtomicInteger();
  final LongAdder rejectedBusy = new LongAdder();

  void gauge(String name, Supplier<Number> value) {
    gauges.put(name, value);
  }

  public void observe(String method, String route, int status, long nanos) {
    Histogram h = requests.computeIfAbsent(new Key(method, route), k -> new Histogram());
    double s = nanos / 1e9;
    for (int i = 0; i < BUCKETS.length; i++) {
      if (s <= BUCKETS[i]) {
        h.buckets[i].increment();
      }
    }
    h.count.increment();
    h.sumNanos.add(nanos);
    h.byStatus.computeIfAbsent(status, k -> new LongAdder()).increment();
  }

  String render() {
    StringBuilder b = new StringBuilder();
    gauges.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            g -> {
              b.append("# TYPE ").append(g.getKey()).append(" gauge\n");
              b.append(g.getKey()).append(' ').append(g.getValue().get()).append('\n');
            });
    b.append("# TYPE spindle_http_requests_in_flight gauge\nspindle_http_requests_in_flight ")
        .append(inFlight.get())
        .append('\n');
    b.append(
            "# TYPE spindle_http_requests_rejected_busy_total counter\nspindle_http_requests_rejected_busy_total ")
        .append(rejectedBusy.sum())
        .append('\n');
    b.append("# TYPE spindle_http_requests_total counter\n");
    requests.forEach(
        (k, h) ->
            h.byStatus.forEach(
                (status, n) ->
                    b.append("spindle_http_requests_total{")
                        .append(labels(k))
                        .append(",status=\"")
                        .append(status)
                        .append("\"} ")
                        .append(n.sum())
                        .append('\n')));
    b.append("# TYPE spindle_http_request_duration_seconds histogram\n");
    requests.forEach(
        (k, h) -> {
          String l = labels(k);
          for (int i = 0; i < BUCKETS.length; i++) {
            b.append("spindle_http_request_duration_seconds_bucket{")
                .append(l)
                .append(",le=\"")
                .append(BUCKETS[i])
                .append("\"} ")
                .append(h.buckets[i].sum())
                .append('\n');
          }
          b.append("spindle_http_request_duration_seconds_bucket{")
              .append(l)
              .append(",le=\"+Inf\"} ")
              .append(h.count.sum())
              .append('\n');
          b.append("spindle_http_request_duration_seconds_sum{")
              .append(l)
              .append("} ")
              .append(h.sumNanos.sum() / 1e9)
              .append('\n');
          b.append("spindle_http_request_duration_seconds_count{")
              .append(l)
              .append("} ")
              .append(h.count.sum())
              .append('\n');
        });
    return b.toString();
  }

  private static String labels(Key k) {
    return "method=\"" + k.method() + "\",route=\"" + k.route() + "\"";
  }
}
