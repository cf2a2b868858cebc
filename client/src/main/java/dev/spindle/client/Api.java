package dev.spindle.client;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.List;
import java.util.Map;

/**
 * The node's REST API as values: one record per request and response body. The daemon parses and
 * writes these same records, so the SDK and the server cannot drift apart. On the wire names are
 * snake_case ({@code sizeBytes} is {@code size_bytes}); absent optional fields are {@code null}.
 */
public final class Api {
  private Api() {}

  /** Where the node's bearer token lives inside a Spindle home (mode 0600). */
  public static final String TOKEN_FILE = "daemon.token";

  /** The default listen address of {@code spindle daemon}. */
  public static final String DEFAULT_NODE = "http://127.0.0.1:8889";

  /**
   * The mapper both ends use: snake_case, no nulls written, and unknown fields rejected so a
   * misspelt request field is a 400 naming it rather than silently ignored.
   */
  public static ObjectMapper mapper() {
    return JsonMapper.builder()
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .defaultPropertyInclusion(
            JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.NON_NULL))
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .build();
  }

  /** {@code {"error": {"code", "message"}}}: every failure the node answers. */
  public record ErrorBody(Error error) {}

  /** A stable machine-readable code and a sentence saying what was wrong. */
  public record Error(String code, String message) {}

  public record Version(String version, String java, String api) {}

  /** A node's descriptor-sealing key ({@code GET /v1/node/key}, open): X.509, base64. */
  public record NodeKeyInfo(String algorithm, String publicKey) {}

  /** {@code POST /v1/images}: make an image of {@code source}; {@code wait=false} answers 202. */
  // "wait" cannot be a record component (it would override Object.wait), hence the rename.
  public record MakeImage(
      String source, String tag, String ref, @JsonProperty("wait") Boolean awaitReady) {
    public MakeImage(String source, String tag) {
      this(source, tag, null, true);
    }
  }

  /** An image or a snapshot (they share one tag namespace). */
  public record ImageInfo(
      String tag,
      String kind,
      String status,
      String source,
      String ref,
      String root,
      String commit,
      Long sizeBytes,
      Integer objects,
      String parent,
      String createdAt,
      String updatedAt,
      String error,
      Double pauseMs,
      Integer chainDepth,
      List<String> ancestors,
      List<String> dependents) {
    /** A row without lineage and pause (the node fills those in when it answers). */
    public ImageInfo(
        String tag,
        String kind,
        String status,
        String source,
        String ref,
        String root,
        String commit,
        Long sizeBytes,
        Integer objects,
        String parent,
        String createdAt,
        String updatedAt,
        String error) {
      this(
          tag, kind, status, source, ref, root, commit, sizeBytes, objects, parent, createdAt,
          updatedAt, error, null, null, null, null);
    }

    public boolean ready() {
      return "ready".equals(status);
    }
  }

  public record ImageList(List<ImageInfo> images) {}

  /** A module to run: exactly one of base64 bytes, a host file, or a path inside an image. */
  public record Wasm(String base64, String file, String image, String path) {
    public static Wasm bytes(byte[] wasm) {
      return new Wasm(java.util.Base64.getEncoder().encodeToString(wasm), null, null, null);
    }

    public static Wasm file(String hostPath) {
      return new Wasm(null, hostPath, null, null);
    }

    public static Wasm inImage(String tag, String path) {
      return new Wasm(null, null, tag, path);
    }
  }

  /** Per-sandbox limits; null means the node's default. */
  public record Limits(Long timeoutMs, Integer maxMemoryPages, Integer outputCap) {}

  /**
   * {@code POST /v1/sandboxes}: {@code n} (default 1, at most 1000) sandboxes of a module ({@code
   * wasm}), or {@code n} branches of a snapshot ({@code snapshot}: a tag; each shares every page it
   * has not written), or with {@code runtime} {@code python} {@code n} CPython interpreters
   * (branches of the node's warm one; no {@code wasm}). {@code runtime} is {@code wasm} when
   * absent.
   */
  public record CreateSandboxes(
      Wasm wasm,
      List<String> args,
      Map<String, String> env,
      Integer n,
      Limits limits,
      String snapshot,
      String runtime,
      List<Dir> dirs) {
    public CreateSandboxes(
        Wasm wasm,
        List<String> args,
        Map<String, String> env,
        Integer n,
        Limits limits,
        String snapshot,
        String runtime) {
      this(wasm, args, env, n, limits, snapshot, runtime, null);
    }

    /** This request with each sandbox given {@code dirs}. */
    public CreateSandboxes withDirs(List<Dir> dirs) {
      return new CreateSandboxes(wasm, args, env, n, limits, snapshot, runtime, dirs);
    }

    public CreateSandboxes(Wasm wasm) {
      this(wasm, null, null, null, null, null, null);
    }

    public CreateSandboxes(
        Wasm wasm, List<String> args, Map<String, String> env, Integer n, Limits limits) {
      this(wasm, args, env, n, limits, null, null);
    }

    public CreateSandboxes(
        Wasm wasm,
        List<String> args,
        Map<String, String> env,
        Integer n,
        Limits limits,
        String snapshot) {
      this(wasm, args, env, n, limits, snapshot, null);
    }

    /** {@code n} branches of snapshot {@code tag}. */
    public static CreateSandboxes branch(String tag, int n) {
      return new CreateSandboxes(null, null, null, n, null, tag, null);
    }

    /** {@code n} Python sandboxes; {@code limits} null for the node's defaults. */
    public static CreateSandboxes python(int n, Limits limits) {
      return new CreateSandboxes(null, null, null, n, limits, null, "python");
    }
  }

  /**
   * A directory each new sandbox sees at {@code guest} (an absolute path), exactly one source: an
   * image's root ({@code image}: a ready image's tag), read-only, or with a private writable layer
   * when {@code writable}; or an empty private directory ({@code scratch}); or a host directory the
   * node's operator lends by name ({@code volume}: {@code spindle daemon --volume NAME=DIR}). Never
   * a host path. Private directories and layers snapshot and branch with the sandbox (each branch
   * writes its own); a read-only image and a volume are shared, never copied.
   */
  public record Dir(String guest, String image, Boolean writable, Boolean scratch, String volume) {
    public Dir(String guest, String image, Boolean writable, Boolean scratch) {
      this(guest, image, writable, scratch, null);
    }

    /** The node's volume {@code name}: shared by every sandbox and branch that names it. */
    public static Dir volume(String guest, String name) {
      return new Dir(guest, null, null, null, name);
    }

    public static Dir image(String guest, String tag) {
      return new Dir(guest, tag, null, null);
    }

    public static Dir writableImage(String guest, String tag) {
      return new Dir(guest, tag, true, null);
    }

    public static Dir scratch(String guest) {
      return new Dir(guest, null, null, true);
    }
  }

  /**
   * A sandbox: {@code kind} reactor (exports are called) or command ({@code _start} ran); {@code
   * status} ready, running, exited or dead (a trap or limit ended it); {@code runtime} {@code
   * python} for an interpreter that takes {@code eval}, else {@code wasm}; {@code privateFileBytes}
   * the bytes of files it wrote in its private directories and layers (null: it has none); {@code
   * sharedFileBytes} the bytes of the read-only trees below them (a snapshot's files it was
   * branched from, an image), shared with every sandbox over the same tree; {@code volumes} the
   * node's host directories it was given by name, with how they fork (null: none).
   */
  public record SandboxInfo(
      String id,
      String kind,
      String status,
      Integer exitCode,
      String createdAt,
      String error,
      String runtime,
      Long privateFileBytes,
      Long sharedFileBytes,
      List<Volume> volumes) {
    public SandboxInfo(
        String id,
        String kind,
        String status,
        Integer exitCode,
        String createdAt,
        String error,
        String runtime,
        Long privateFileBytes) {
      this(id, kind, status, exitCode, createdAt, error, runtime, privateFileBytes, null, null);
    }

    public SandboxInfo(
        String id, String kind, String status, Integer exitCode, String createdAt, String error) {
      this(id, kind, status, exitCode, createdAt, error, null, null, null, null);
    }

    public SandboxInfo(
        String id,
        String kind,
        String status,
        Integer exitCode,
        String createdAt,
        String error,
        String runtime) {
      this(id, kind, status, exitCode, createdAt, error, runtime, null, null, null);
    }
  }

  /**
   * A volume a sandbox holds at {@code guest}: the node's host directory {@code volume}, shared and
   * never copied. {@code branch} {@code shared}: its branches see the same directory (a snapshot
   * records the name, not the files); {@code remoteFork} {@code refused}: it does not travel.
   */
  public record Volume(String guest, String volume, String branch, String remoteFork) {}

  /** {@code POST /v1/sandboxes/{id}/eval}: Python source, run in the sandbox's one namespace. */
  public record Eval(String code) {}

  /**
   * What an eval printed, and either the {@code repr} of its last expression statement ({@code
   * value}, absent for {@code None} or a statement, as in a notebook cell) or the exception it
   * raised ({@code error}). A Python exception is a 200 with {@code error}, not an HTTP error.
   */
  public record EvalResult(String stdout, String stderr, String value, EvalError error) {
    public boolean ok() {
      return error == null;
    }
  }

  /**
   * A Python exception: its type ({@code ZeroDivisionError}, {@code json.JSONDecodeError}), message
   * and traceback.
   */
  public record EvalError(String type, String message, String traceback) {}

  public record SandboxList(List<SandboxInfo> sandboxes) {}

  /** {@code POST /v1/sandboxes/{id}/call}: i32/i64 arguments as numbers. */
  public record Call(String export, List<Long> args) {}

  public record CallResult(List<Long> results) {}

  /** What the guest wrote so far (UTF-8, undecodable bytes replaced). */
  public record Output(String stdout, String stderr) {}

  /** {@code POST /v1/sandboxes/{id}/snapshot}: mode full or live. */
  public record Snapshot(String tag, String mode, @JsonProperty("wait") Boolean awaitReady) {}

  /**
   * {@code POST /v1/sandboxes/{id}/fork}: with {@code node} (and that node's {@code token}) the
   * child is resumed there; without, the answer carries the descriptor. {@code ttl_seconds}: how
   * long the parent's node serves the pages (default one hour).
   */
  public record Fork(String node, String token, Long ttlSeconds, Boolean replay) {
    public Fork(String node, String token, Long ttlSeconds) {
      this(node, token, ttlSeconds, null);
    }
  }

  /**
   * A prepared fork: the descriptor's id on the parent's node and its size; {@code child} and
   * {@code node} when it was resumed elsewhere, else {@code descriptor} (base64).
   */
  public record ForkResult(
      String descriptorId,
      Integer descriptorBytes,
      String node,
      SandboxInfo child,
      String descriptor) {}

  /**
   * {@code POST /v1/resume}: a descriptor (base64) made by a fork on another node. {@code replay}
   * (default true): fetch the parent's working set (pages it wrote since its last snapshot or fork)
   * in the background; false moves only what the child touches.
   */
  public record Resume(String descriptor, Boolean replay) {
    public Resume(String descriptor) {
      this(descriptor, null);
    }
  }

  /**
   * A descriptor this node serves pages for: capability prefix only (it is a secret); {@code
   * fallback} is the upload of its pages to the store: {@code uploading}, {@code ready} or {@code
   * failed: ...}.
   */
  public record DescriptorInfo(
      String id,
      String sandbox,
      String capability,
      Integer pages,
      Integer nonZeroPages,
      String expiresAt,
      String fallback) {}

  public record DescriptorList(List<DescriptorInfo> descriptors) {}
}
