package dev.spindle.cli;

import dev.spindle.image.trust.ImageSignatures;
import dev.spindle.image.trust.TrustedKeys;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "key",
    mixinStandardHelpOptions = true,
    description = "Signing keys for images (Ed25519).",
    subcommands = {
      KeyCommand.New.class,
      KeyCommand.Trust.class,
      KeyCommand.Untrust.class,
      KeyCommand.ListKeys.class
    })
final class KeyCommand {
  @Command(
      name = "new",
      mixinStandardHelpOptions = true,
      description = {
        "Make a key pair: KEY (private, mode 0600) and KEY.pub (give it to verifiers)."
      })
  static final class New implements Callable<Integer> {
    @Mixin CommonOptions common; // --home, accepted by every command; keys live where KEY says

    @Parameters(paramLabel = "KEY")
    Path key;

    @Override
    public Integer call() throws Exception {
      String fp = ImageSignatures.newKey(key);
      System.out.println("key " + fp + ": private " + key + ", public " + key + ".pub");
      return 0;
    }
  }

  @Command(
      name = "trust",
      mixinStandardHelpOptions = true,
      description = {
        "Trust KEY.pub on this node. Once it trusts any key, the node pulls, mounts and runs",
        "only images signed by a trusted key ('image sign'): unsigned, untrusted and altered",
        "images are refused, saying which."
      })
  static final class Trust implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(paramLabel = "KEY.pub")
    Path key;

    @Override
    public Integer call() throws Exception {
      TrustedKeys trusted = TrustedKeys.of(common.home());
      String fp = trusted.trust(key);
      System.out.println(
          "trusting key "
              + fp
              + " ("
              + trusted.keys().size()
              + " trusted): images must be signed by a trusted key");
      return 0;
    }
  }

  @Command(
      name = "untrust",
      mixinStandardHelpOptions = true,
      description = {
        "Stop trusting a key (its fingerprint, from 'key list'). With no key left, images",
        "are no longer required to be signed."
      })
  static final class Untrust implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Parameters(paramLabel = "FINGERPRINT")
    String fingerprint;

    @Override
    public Integer call() throws Exception {
      TrustedKeys trusted = TrustedKeys.of(common.home());
      if (!trusted.untrust(fingerprint)) {
        System.err.println("spindle: key " + fingerprint + " was not trusted ('spindle key ls')");
        return 1;
      }
      System.out.println(
          "no longer trusting key "
              + fingerprint
              + (trusted.enforced()
                  ? ""
                  : "; no key is trusted now, so signatures are not required"));
      return 0;
    }
  }

  @Command(
      name = "ls",
      aliases = "list",
      mixinStandardHelpOptions = true,
      description = "The keys this node trusts, and whether it requires signed images.")
  static final class ListKeys implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Override
    public Integer call() throws Exception {
      java.util.List<Path> keys = TrustedKeys.of(common.home()).keys();
      if (keys.isEmpty()) {
        System.out.println(
            "no trusted keys: images are not required to be signed ('spindle key trust KEY.pub')");
      }
      for (Path k : keys) {
        System.out.println(k.getFileName().toString().replace(".pub", "") + "  " + k);
      }
      return 0;
    }
  }
}
