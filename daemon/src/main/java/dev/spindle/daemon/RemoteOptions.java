package dev.spindle.daemon;

/**
 * How a node takes part in remote fork: where its page service listens (the host is also what
 * descriptors advertise to children) and the fallback page store. Two nodes that should survive
 * each other's death point at one store directory (a shared disk here; S3 in a cluster).
 *
 * @param pagePort 0 picks a free port
 * @param pageStore a directory or {@code s3://BUCKET[/PREFIX]?endpoint=URL} ({@code
 *     remote.PageStores}); null for {@code HOME/pages}
 * @param pageAdvertise the host children reach the page service at, written into descriptors; null
 *     for the host it listens on, which must then be a concrete address
 */
record RemoteOptions(String pageHost, int pagePort, String pageStore, String pageAdvertise) {
  RemoteOptions {
    if (pagePort < 0 || pagePort > 65535) {
      throw new IllegalArgumentException("page port must be 0..65535, got " + pagePort);
    }
  }

  /** The page service on the API's host, a free port; the store under the home. */
  static RemoteOptions defaults(DaemonConfig c) {
    return new RemoteOptions(c.host(), 0, null, null);
  }

  /** {@code host:port}, {@code :port} or {@code port}, as {@code --listen}. */
  RemoteOptions listen(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    String h = colon > 0 ? hostPort.substring(0, colon) : pageHost;
    try {
      return new RemoteOptions(
          h, Integer.parseInt(hostPort.substring(colon + 1)), pageStore, pageAdvertise);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--page-listen wants HOST:PORT, e.g. 127.0.0.1:8890, got '" + hostPort + "'");
    }
  }

  RemoteOptions store(String spec) {
    return new RemoteOptions(pageHost, pagePort, spec, pageAdvertise);
  }

  RemoteOptions advertise(String host) {
    if (host != null && (host.isBlank() || host.contains("/") || host.contains(" "))) {
      throw new IllegalArgumentException(
          "--page-advertise wants a host name or address, e.g. 10.0.0.2, got '" + host + "'");
    }
    return new RemoteOptions(pageHost, pagePort, pageStore, host);
  }

  /**
   * The host descriptors name: the advertised one, else the one the service is bound to. A wildcard
   * bind (0.0.0.0, ::) names no host a child could reach, so it needs an advertised one.
   */
  String advertisedHost(java.net.InetSocketAddress bound) throws java.io.IOException {
    if (pageAdvertise != null) {
      return pageAdvertise;
    }
    if (bound.getAddress().isAnyLocalAddress()) {
      throw new java.io.IOException(
          "the page service listens on every address ("
              + pageHost
              + "), so descriptors would name no host a child can reach: add --page-advertise HOST (this node's"
              + " address as other nodes see it)");
    }
    return bound.getAddress().getHostAddress();
  }
}
