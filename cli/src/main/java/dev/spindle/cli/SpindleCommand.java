package dev.spindle.cli;

import picocli.CommandLine.Command;

@Command(
    name = "spindle",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Sandboxes that are cheap to start, copy and move.",
    subcommands = {
      ImageCommand.class,
      RunCommand.class,
      PythonCommand.class,
      QuickstartCommand.class,
      MountCommand.class,
      UmountCommand.class,
      ContainerCommand.class,
      DaemonCommand.class,
      SandboxCommands.class,
      DoctorCommand.class,
      SnapshotCommand.class,
      BranchCommand.class,
      RemoteForkCommands.ForkCommand.class,
      RemoteForkCommands.ResumeCommand.class,
      KeyCommand.class,
      AotTrainingCommand.class
    },
    footer = {
      "",
      "Store: $SPINDLE_HOME, else ~/.spindle (or --home DIR on any command).",
      "Run 'spindle COMMAND --help' for a command's options."
    })
final class SpindleCommand {}
