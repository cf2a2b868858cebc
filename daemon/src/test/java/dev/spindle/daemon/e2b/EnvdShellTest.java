package dev.spindle.daemon.e2b;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How a command line is split into words, with bash itself as the oracle for what is supported. */
class EnvdShellTest {
  /**
   * The words bash makes of {@code line}: it runs {@code printf '%s\0' LINE} and splits at the
   * NULs.
   */
  private static List<String> bash(String line) throws Exception {
    Process p =
        new ProcessBuilder("/bin/bash", "--norc", "--noprofile", "-c", "printf '%s\\0' " + line)
            .redirectErrorStream(true)
            .start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("bash ran %s", line).isZero();
    String s = new String(out, StandardCharsets.UTF_8);
    return s.isEmpty() ? List.of() : Arrays.asList(s.substring(0, s.length() - 1).split("\0", -1));
  }

  @Test
  void splitsAsBashDoesWhereNoShellFeatureIsNeeded() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/bin/bash")), "no bash to compare with");
    for (String line :
        List.of(
            "python -c 'print(1)'",
            "python -c \"print('a b')\" x 'y z'",
            "echo  a\\ b   \"c\\\"d\" 'e\\f'",
            "python -c 'import sys; print(sys.argv)' \"\" ''",
            "cat ~/a.txt ~ ~:x",
            "echo a~b x=~/y PATH=/a:~/b:~ y=a~",
            "echo \"tab\there\" 'new\nline'",
            "echo \"\\\\ \\$ \\` \\x\"",
            "echo a'b'\"c\"d")) {
      assertThat(EnvdShell.words(line))
          .as(line)
          .isEqualTo(
              bash(line).stream()
                  .map(w -> w.replace(System.getenv().getOrDefault("HOME", "/root"), EnvdPath.HOME))
                  .toList());
    }
  }

  @Test
  void refusesWhatNeedsAShellNamingIt() {
    assertThatThrownBy(() -> EnvdShell.words("ls | wc")).hasMessageContaining("a pipe");
    assertThatThrownBy(() -> EnvdShell.words("cd /tmp && ls"))
        .hasMessageContaining("a list of commands");
    assertThatThrownBy(() -> EnvdShell.words("echo hi > f")).hasMessageContaining("a redirection");
    assertThatThrownBy(() -> EnvdShell.words("echo $HOME")).hasMessageContaining("variable");
    assertThatThrownBy(() -> EnvdShell.words("echo \"$(id)\""))
        .hasMessageContaining("substitution");
    assertThatThrownBy(() -> EnvdShell.words("ls *.py")).hasMessageContaining("a glob");
    assertThatThrownBy(() -> EnvdShell.words("python -c 'print(1)"))
        .hasMessageContaining("unterminated single quote");
    assertThatThrownBy(() -> EnvdShell.words("echo \"x"))
        .hasMessageContaining("unterminated double quote");
  }
}
