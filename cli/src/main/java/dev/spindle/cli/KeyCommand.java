package dev.spindle.cli;

import dev.spindle.image.ImageSignatures;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "key", mixinStandardHelpOptions = true,
    description = "Signing keys for images (Ed25519).",
    subcommands = KeyCommand.New.class)
final class KeyCommand {
  @Command(name = "new", mixinStandardHelpOptions = true,
      description = {"Make a key pair: KEY (private, mode 0600) and KEY.pub (give it to verifiers)."})
  static final class New implements Callable<Integer> {
    @Mixin CommonOptions common; // --home, accepted by every command; keys live where KEY says

    @Parameters(paramLabel = "KEY") Path key;

    @Override
    public Integer call() throws Exception {
      String fp = ImageSignatures.newKey(key);
      System.out.println("key " + fp + ": private " + key + ", public " + key + ".pub");
      return 0;
    }
  }
}
