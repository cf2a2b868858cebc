# Spindle's Python guest module, imported by trino-wasm-python's host (pyhost.c) from /guest.
# The host calls run(code, filename, cap) for every eval; its answer is one JSON string, so the
# Java side needs no knowledge of Python objects. State lives in _namespace, which persists
# between evals (and in snapshots, since it is guest memory like everything else).
import ast
import json
import linecache
import sys
import traceback

_namespace = {"__name__": "__main__", "__builtins__": __builtins__}
_GUEST_FILE = __file__


class OutputLimitExceeded(BaseException):
    # A BaseException, so that user code's `except Exception` does not swallow the limit.
    pass


class _Capture:
    """A text stream that keeps what is written, up to a cap in UTF-8 bytes."""

    def __init__(self, name, cap):
        self.name = name
        self._parts = []
        self._size = 0
        self._cap = cap
        self.encoding = "utf-8"
        self.errors = "strict"

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        size = len(s.encode("utf-8", "surrogatepass"))
        if self._size + size > self._cap:
            # Keep what fits, so the caller sees the output up to the cap.
            room = self._cap - self._size
            self._parts.append(s.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore"))
            self._size = self._cap
            raise OutputLimitExceeded(f"{self.name} passed the output cap of {self._cap} bytes")
        self._parts.append(s)
        self._size += size
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def fileno(self):
        raise OSError("captured stream has no file descriptor")

    def getvalue(self):
        return "".join(self._parts)


def _user_traceback(tb):
    # Drop this module's frames (run() and the exec/eval calls): the user's code starts after them.
    while tb is not None and tb.tb_frame.f_code.co_filename == _GUEST_FILE:
        tb = tb.tb_next
    return tb


def _error(e):
    t = type(e)
    name = t.__qualname__ if t.__module__ in ("builtins", "__main__") else f"{t.__module__}.{t.__qualname__}"
    te = traceback.TracebackException(t, e, _user_traceback(e.__traceback__), compact=True)
    return {"type": name, "message": str(e), "traceback": "".join(te.format())}


def _exit_status(e, err):
    # As the interpreter does at exit: None is 0, an int is the status, anything else is printed
    # to stderr and is 1.
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    try:
        err.write(str(code) + "\n")
    except OutputLimitExceeded:
        pass
    return 1


def _run(code, filename, out, err):
    # Like a notebook cell: the last statement, if an expression, is evaluated for its value.
    tree = ast.parse(code, filename, "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, "exec"), _namespace)
    if last is not None:
        value = eval(compile(last, filename, "eval"), _namespace)
        if value is not None:
            _namespace["_"] = value
            return repr(value)
    return None


def run(code, filename, cap):
    # Tracebacks show the source lines of evaluated code, as they do for files.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    out = _Capture("stdout", cap)
    err = _Capture("stderr", cap)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    value = None
    error = None
    try:
        value = _run(code, filename, out, err)
    except SystemExit as e:
        error = {"type": "SystemExit", "message": str(_exit_status(e, err)), "traceback": ""}
    except OutputLimitExceeded as e:
        error = {"type": "OutputLimitExceeded", "message": str(e), "traceback": ""}
    except BaseException as e:
        error = _error(e)
    finally:
        sys.stdout, sys.stderr = saved
    # ASCII-only JSON: a lone surrogate in a str would make the host's UTF-8 encoding fail.
    return json.dumps({"stdout": out.getvalue(), "stderr": err.getvalue(), "value": value, "error": error},
                      ensure_ascii=True)
