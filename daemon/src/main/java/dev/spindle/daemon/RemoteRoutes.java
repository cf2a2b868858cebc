package dev.spindle.daemon;

import dev.spindle.client.Api.DescriptorList;
import dev.spindle.client.Api.Fork;
import dev.spindle.client.Api.ForkResult;
import dev.spindle.client.Api.NodeKeyInfo;
import dev.spindle.client.Api.Resume;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Base64;

/**
 * Remote fork: {@code POST /v1/sandboxes/{id}/fork}, {@code POST /v1/resume}, {@code
 * /v1/descriptors}.
 */
final class RemoteRoutes {
  /** A 4 GiB memory's page hashes (2 MiB) and a generous state. */
  private static final long MAX_DESCRIPTOR = 80L << 20;

  private final Sandboxes sandboxes;
  private final RemoteNode remote;

  RemoteRoutes(Sandboxes sandboxes, RemoteNode remote) {
    this.sandboxes = sandboxes;
    this.remote = remote;
  }

  void register(Router r) {
    // Open: a peer fetches it knowing only this node's URL (its operator's --peer).
    r.addOpen(
        "GET",
        "/v1/node/key",
        x ->
            x.json(
                new NodeKeyInfo(
                    "Ed25519", Base64.getEncoder().encodeToString(remote.publicKey()))));
    r.add("POST", "/v1/sandboxes/{id}/fork", this::fork);
    r.add("POST", "/v1/resume", this::resume);
    r.add("GET", "/v1/descriptors", x -> x.json(new DescriptorList(remote.list())));
    r.add(
        "DELETE",
        "/v1/descriptors/{id}",
        x -> {
          remote.release(x.param("id"));
          x.noContent();
        });
  }

  /**
   * Prepares the sandbox; with {@code node}, hands the descriptor to that node and answers the
   * child there (the descriptor is released again if that node refuses it), else answers the
   * descriptor.
   */
  private void fork(Exchange x) throws Exception {
    NodeSandbox g = sandboxes.get(x.param("id"));
    Fork f = x.body(Fork.class);
    if (!g.isReactor()) {
      throw ApiError.conflict(
          "not_a_reactor", "sandbox " + g.id + " is a command module; only reactors can be forked");
    }
    if (f.ttlSeconds() != null && f.ttlSeconds() <= 0) {
      throw ApiError.badRequest("bad_field", "field 'ttl_seconds' must be > 0");
    }
    if (f.node() != null && f.token() == null) {
      throw ApiError.badRequest(
          "bad_field", "field 'token' is required with 'node': the token of the node to resume on");
    }
    if (f.node() != null) {
      remote.policy().requirePeer(f.node(), "node");
    }
    Duration ttl =
        f.ttlSeconds() == null ? RemoteNode.DEFAULT_TTL : Duration.ofSeconds(f.ttlSeconds());
    RemoteNode.Prepared p;
    synchronized (g) {
      if ("dead".equals(g.info().status())) {
        throw ApiError.conflict(
            "sandbox_dead", "sandbox " + g.id + " is dead: " + g.info().error());
      }
      if (!g.volumeNames().isEmpty()) {
        // A volume is this node's host directory: it is not copied, and another node's is another.
        throw ApiError.conflict(
            "volume_not_forkable",
            "sandbox "
                + g.id
                + " holds volumes "
                + g.volumeNames()
                + ", host directories of this node, which are shared and never copied: it cannot be"
                + " forked to another node");
      }
      p = remote.prepare(g, ttl);
    }
    if (f.node() == null) {
      x.json(
          201,
          new ForkResult(
              p.id(),
              p.descriptor().length,
              null,
              null,
              Base64.getEncoder().encodeToString(p.descriptor())));
      return;
    }
    SandboxInfo child;
    try {
      child = SpindleClient.connect(f.node(), f.token()).resume(p.descriptor(), f.replay());
    } catch (ApiException e) {
      remote.release(p.id());
      // What the other node said is not repeated: its answer is its own, not ours to relay.
      throw new ApiError(
          502,
          "resume_failed",
          "the node " + f.node() + " refused the fork (HTTP " + e.status() + "); its log says why");
    } catch (UncheckedIOException | IllegalArgumentException e) {
      remote.release(p.id());
      throw new ApiError(
          502,
          "resume_failed",
          "the node " + f.node() + " could not be reached to resume the fork");
    }
    x.json(201, new ForkResult(p.id(), p.descriptor().length, f.node(), child, null));
  }

  /**
   * Resumes a descriptor sent as it is ({@code application/octet-stream}, {@code ?replay=false}
   * optional), or as base64 in JSON ({@code {"descriptor", "replay"}}).
   */
  private void resume(Exchange x) throws Exception {
    byte[] bytes;
    boolean replay;
    if (x.isOctets()) {
      bytes = x.bytes(MAX_DESCRIPTOR);
      if (bytes.length == 0) {
        throw ApiError.badRequest(
            "bad_descriptor", "the body is empty: send the descriptor's bytes");
      }
      replay = x.query("replay") == null || x.flag("replay");
    } else {
      Resume r = x.body(Resume.class);
      if (r.descriptor() == null) {
        throw ApiError.badRequest(
            "bad_field", "field 'descriptor' (base64 of a descriptor) is required");
      }
      try {
        bytes = Base64.getDecoder().decode(r.descriptor());
      } catch (IllegalArgumentException e) {
        throw ApiError.badRequest(
            "bad_field", "field 'descriptor' is not base64: " + e.getMessage());
      }
      replay = !Boolean.FALSE.equals(r.replay());
    }
    dev.spindle.fork.RemoteForks.Child c = remote.resume(bytes, replay);
    // When the child ends, its parent's node may drop the descriptor's pages at once.
    SandboxInfo child = sandboxes.adopt(c.guest(), "remote", c.pages()::release);
    remote.adopted(child.id(), c.pages());
    x.json(201, child);
  }
}
