package dev.spindle.sandbox.python;

/**
 * What one {@link PythonRuntime#eval} did: the text written to {@code sys.stdout} and {@code
 * sys.stderr}, the {@code repr} of the last expression statement (null when the code does not end
 * in one or it is {@code None}, as in a notebook cell), and the exception that ended it, if any.
 */
public record EvalResult(String stdout, String stderr, String value, Error error) {
  /**
   * An exception that ended an eval. {@code type} is the class name ({@code ZeroDivisionError},
   * {@code json.decoder.JSONDecodeError}); {@code traceback} is what Python prints for it, starting
   * at the evaluated code. Two types are Spindle's: {@code SystemExit} carries the exit status in
   * {@code message} (the interpreter's rule: {@code None} is 0, any non-int is printed to stderr
   * and is 1), and {@code OutputLimitExceeded} says a stream passed the output cap (the output up
   * to the cap is kept; the interpreter stays usable).
   */
  public record Error(String type, String message, String traceback) {}

  public boolean ok() {
    return error == null;
  }
}
