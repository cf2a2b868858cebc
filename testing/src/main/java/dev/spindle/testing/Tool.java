package dev.spindle.testing;

import dev.spindle.store.SpindleCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real tool the tests run: how to tell whether this machine has it, and what to install when it
 * does not. The module that needs a tool lists its packages in its {@code APT-PACKAGES} (or {@code
 * NPM-PACKAGES}), which {@code scripts/test} installs.
 */
public enum Tool {
  /** The kernel's FUSE device, which every mount needs (libfuse 3 itself comes with fuse3). */
  FUSE(
      "/dev/fuse",
      "apt-get install fuse3; in a container, also --device /dev/fuse --cap-add SYS_ADMIN") {
    @Override
    boolean probe() {
      return Files.exists(Path.of("/dev/fuse"));
    }
  },
  /** The OCI runtime that runs containers, found where {@code Runc.locate} looks. */
  RUNC("runc", "apt-get install runc") {
    @Override
    boolean probe() {
      return onPath("runc");
    }
  },
  /** A static busybox, copied into the tests' container root file systems. */
  BUSYBOX("/bin/busybox", "apt-get install busybox-static") {
    @Override
    boolean probe() {
      return Files.isExecutable(Path.of("/bin/busybox"));
    }
  },
  /** clang with a wasm32-wasi sysroot, which builds the C test guests (sandbox/src/test/c). */
  CLANG("clang", "apt-get install -y $(cat sandbox/APT-PACKAGES)") {
    @Override
    boolean probe() {
      return runs("clang", "--version");
    }
  },
  /** The CNCF distribution server (Debian's docker-registry), which the registry tests start. */
  REGISTRY("docker-registry", "apt-get install docker-registry") {
    @Override
    boolean probe() {
      return Files.isExecutable(Path.of("/usr/bin/docker-registry"));
    }
  },
  /** getfattr and setfattr (Debian's attr), the oracle of extended attributes in metadata tests. */
  ATTR("getfattr and setfattr", "apt-get install attr") {
    @Override
    boolean probe() {
      return onPath("getfattr") && onPath("setfattr");
    }
  },
  /**
   * Running as root (CI does): owners, setuid bits and security.* attributes can only be set, and
   * so tested, by root.
   */
  ROOT("root (uid 0)", "run the tests as root (CI does)") {
    @Override
    boolean probe() {
      try {
        return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
      } catch (java.io.IOException | UnsupportedOperationException e) {
        return false;
      }
    }
  },
  /** skopeo, the registry tests' oracle of what a registry holds. */
  SKOPEO("skopeo", "apt-get install skopeo") {
    @Override
    boolean probe() {
      return onPath("skopeo");
    }
  },
  /** The official WASI conformance suite, beside the repository. */
  WASI_SUITE(
      "the WASI conformance suite (../shared/wasi-testsuite)",
      "git clone https://github.com/WebAssembly/wasi-testsuite ../shared/wasi-testsuite (beside the repository)") {
    @Override
    boolean probe() {
      return TestFiles.findUpward("shared/wasi-testsuite/tests") != null;
    }
  },
  /**
   * The guests from npm (CRuby, sandbox/NPM-PACKAGES), installed by {@code scripts/npm-guests};
   * what the probe can tell is whether npm is here to install them.
   */
  NPM_GUESTS(
      "the npm guests (CRuby; scripts/npm-guests)",
      "install Node.js 20 (npm), then run scripts/npm-guests") {
    @Override
    boolean probe() {
      return runs("npm", "--version");
    }
  },
  /**
   * Node.js with E2B's SDKs, pinned in daemon/NPM-PACKAGES ({@code e2b}, {@code
   * @e2b/code-interpreter}) and installed by {@code scripts/npm-guests} into the cache; what the
   * probe can tell is whether node and npm are here to run and install them.
   */
  E2B_SDK(
      "Node.js with E2B's SDKs (daemon/NPM-PACKAGES; scripts/npm-guests)",
      "install Node.js 20 (node, npm), then run scripts/npm-guests") {
    @Override
    boolean probe() {
      return runs("node", "--version") && runs("npm", "--version");
    }
  },
  /**
   * The Debian root file system that {@code scripts/debian-rootfs} makes with debootstrap (as root,
   * with the network, once) and caches; the probe sees debootstrap or the cached one.
   */
  DEBIAN_ROOTFS(
      "a Debian root file system (scripts/debian-rootfs)",
      "apt-get install debootstrap, then run scripts/debian-rootfs as root with the network once") {
    @Override
    boolean probe() {
      Path root = SpindleCache.root();
      return onPath("debootstrap")
          || Files.isExecutable(root.resolve("debian/bookworm-python3/usr/bin/python3"));
    }
  };

  private final String what;
  private final String install;

  Tool(String what, String install) {
    this.what = what;
    this.install = install;
  }

  /** What is missing, as a message names it. */
  public String what() {
    return what;
  }

  /** What to do to have it. */
  public String install() {
    return install;
  }

  /** Whether this machine has the tool ({@link Requirements} adds {@code spindle.absent}). */
  abstract boolean probe();

  // PATH, then the sbin directories a non-root PATH often lacks (runc is in /usr/sbin).
  private static boolean onPath(String name) {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(Arrays.asList(path.split(":")));
    }
    dirs.addAll(List.of("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin"));
    return dirs.stream().anyMatch(d -> Files.isExecutable(Path.of(d.isEmpty() ? "." : d, name)));
  }

  private static boolean runs(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
