package dev.spindle.cli;

import picocli.CommandLine.IVersionProvider;

final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = Main.class.getPackage().getImplementationVersion();
    return new String[] {"spindle " + (v == null ? "0.1.0-dev" : v), "Java " + Runtime.version()};
  }
}
