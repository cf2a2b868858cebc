package dev.spindle.cli;

import dev.spindle.image.trust.ImageSignatures;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "sign",
    mixinStandardHelpOptions = true,
    description = {
      "Sign an image's commit and root with an Ed25519 key ('spindle key new'); the",
      "signature is stored beside the image. Check it with 'image verify TAG --key KEY.pub'."
    })
final class ImageSignCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Parameters(paramLabel = "TAG|FILE")
  String image;

  @Option(
      names = "--key",
      paramLabel = "KEY",
      required = true,
      description = "The private key (KEY.pub beside it).")
  Path key;

  @Override
  public Integer call() throws Exception {
    // Unchecked: signing is how an unsigned image becomes usable under the node's policy.
    Path sig = ImageSignatures.sign(common.images().locateUnchecked(image), key);
    System.out.println("signed " + image + ": " + sig);
    return 0;
  }
}
