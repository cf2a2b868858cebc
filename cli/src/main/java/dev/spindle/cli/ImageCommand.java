package dev.spindle.cli;

import picocli.CommandLine.Command;

@Command(
    name = "image",
    header = "Make, verify, read, export and import file-system images.",
    mixinStandardHelpOptions = true,
    description = {
      "Make, verify and read file-system images: a Git PACK + IDX with a header and a path",
      "index, whose root is the Git tree hash of the files."
    },
    subcommands = {
      ImageMakeCommand.class,
      ImageVerifyCommand.class,
      ImageTransferCommands.Export.class,
      ImageTransferCommands.Import.class,
      ImageTransferCommands.Remove.class,
      ImagePullCommands.Pull.class,
      ImagePullCommands.Push.class,
      ImagePullCommands.Cache.class,
      ImageSignCommand.class,
      ImageProfileCommands.Profile.class,
      ImageProfileCommands.Debloat.class,
      ImageReadCommands.Ls.class,
      ImageReadCommands.Cat.class,
      ImageReadCommands.Stat.class,
      ImageReadCommands.Extract.class
    })
final class ImageCommand {}
