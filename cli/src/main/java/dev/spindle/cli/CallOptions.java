package dev.spindle.cli;

import dev.spindle.fork.Guest;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Stack;
import picocli.CommandLine.IParameterConsumer;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * Repeated {@code --call EXPORT [ARG...]} options: exports of a reactor guest to call in order,
 * with integer arguments. Shared by {@code run}, {@code snapshot create} and {@code branch}. Each
 * {@code --call} takes the words up to the next option (picocli's multi-value options would merge
 * repeated occurrences into one list; negative numbers stay arguments).
 */
final class CallOptions {
  /** One {@code --call}: the export's name and its arguments. */
  record Call(String export, long[] args) {}

  @Option(
      names = "--call",
      paramLabel = "EXPORT [ARG...]",
      parameterConsumer = Consumer.class,
      description = "Call export EXPORT with integer ARGs (repeatable; in order).")
  List<Call> calls = new ArrayList<>();

  static final class Consumer implements IParameterConsumer {
    @Override
    public void consumeParameters(Stack<String> args, ArgSpec argSpec, CommandSpec commandSpec) {
      if (args.isEmpty()) {
        throw new IllegalArgumentException("--call needs an export name");
      }
      String export = args.pop();
      List<Long> values = new ArrayList<>();
      while (!args.isEmpty() && !isOption(args.peek(), commandSpec)) {
        values.add(parseArg(export, args.pop()));
      }
      List<Call> list = argSpec.getValue();
      list.add(new Call(export, values.stream().mapToLong(Long::longValue).toArray()));
    }

    /**
     * The one reading of a {@code --call} argument in every command: decimal (a leading zero is
     * still decimal: 010 is 10), or hexadecimal after {@code 0x} (all 64 bits, so
     * 0xffffffffffffffff is -1).
     */
    static long parseArg(String export, String word) {
      try {
        if (word.startsWith("0x") || word.startsWith("0X")) {
          return Long.parseUnsignedLong(word.substring(2), 16);
        }
        return Long.parseLong(word);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "--call " + export + ": argument '" + word + "' is not an integer");
      }
    }

    private static boolean isOption(String word, CommandSpec spec) {
      return word.startsWith("-")
          && (spec.findOption(word.split("=", 2)[0]) != null || word.startsWith("--"));
    }
  }

  /**
   * Makes the calls in {@code guest}, printing each result and then the guest's new output, every
   * line prefixed with {@code prefix}.
   */
  void run(Guest guest, String prefix, PrintStream out) {
    int printed = 0;
    for (Call c : calls) {
      long[] result = guest.call(c.export(), c.args());
      String args = Arrays.toString(c.args());
      out.println(
          prefix
              + c.export()
              + "("
              + args.substring(1, args.length() - 1)
              + ")"
              + (result.length == 0
                  ? ""
                  : " = "
                      + (result.length == 1 ? Long.toString(result[0]) : Arrays.toString(result))));
      byte[] stdout = guest.reactor().stdout();
      String text = new String(stdout, printed, stdout.length - printed, StandardCharsets.UTF_8);
      printed = stdout.length;
      for (String line : text.lines().toList()) {
        out.println(prefix + line);
      }
    }
  }
}
