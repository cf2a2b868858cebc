# Spindle's Python guest module, imported by trino-wasm-python's host (pyhost.c) from /guest.
# The host calls run(code, filename, cap, flags) for every eval; its answer is one JSON string, so the
# Java side needs no knowledge of Python objects. State lives in _namespace, which persists
# between evals (and in snapshots, since it is guest memory like everything else).
#
# Only C modules are imported up front (_ast, _json, sys): setup then costs the import of this
# file alone, not of ast, json (which pulls in re), traceback and linecache, which are pure Python
# and slow to load in a WebAssembly interpreter. traceback and linecache load on the first error.
import _ast
import _json
import sys

_namespace = {"__name__": "__main__", "__builtins__": __builtins__}
# Separate namespaces by number (run()'s flags >> 8; 0 is _namespace), each made on first use:
# a notebook's "contexts", which share the interpreter (its modules) but not their variables.
_namespaces = {0: _namespace}
_GUEST_FILE = __file__
# Sources of evaluated code by filename, handed to linecache when a traceback is formatted.
_sources = {}


class OutputLimitExceeded(BaseException):
    # A BaseException, so that user code's `except Exception` does not swallow the limit.
    pass


class _Capture:
    """A text stream that keeps what is written, up to a cap in UTF-8 bytes."""

    def __init__(self, name, cap, fd=None):
        self.name = name
        self._parts = []
        self._size = 0
        self._cap = cap
        # Streaming: what is written goes straight to this WASI fd (the host reads it while the
        # eval runs) instead of being kept for the answer.
        self._fd = fd
        self.encoding = "utf-8"
        self.errors = "strict"

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        size = len(s.encode("utf-8", "surrogatepass"))
        if self._size + size > self._cap:
            # Keep what fits, so the caller sees the output up to the cap.
            room = self._cap - self._size
            self._keep(s.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore"))
            self._size = self._cap
            raise OutputLimitExceeded(f"{self.name} passed the output cap of {self._cap} bytes")
        self._keep(s)
        self._size += size
        return len(s)

    def _keep(self, s):
        if self._fd is None:
            self._parts.append(s)
            return
        import os

        data = s.encode("utf-8", "replace")
        while data:
            data = data[os.write(self._fd, data):]

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
    import linecache
    import traceback

    for filename, code in _sources.items():
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
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


def _run(code, filename, namespace):
    # Like a notebook cell: the last statement, if an expression, is evaluated for its value.
    tree = compile(code, filename, "exec", _ast.PyCF_ONLY_AST)
    last = None
    if tree.body and isinstance(tree.body[-1], _ast.Expr):
        last = _ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        value = eval(compile(last, filename, "eval"), namespace)
        if value is not None:
            namespace["_"] = value
            return repr(value)
    return None


# Bits of run()'s flags; the bits from 8 up are the namespace's number.
_RESEED = 1
_STREAM = 2


def run(code, filename, cap, flags):
    if flags & _RESEED:
        # A branch of a snapshot holds its parent's generator state if random was imported before
        # the snapshot: reseeded from this sandbox's own WASI random stream, in the same call as the
        # eval (a separate eval per branch cost as much again as the first eval itself).
        r = sys.modules.get("random")
        if r is not None:
            r.seed()
    # Tracebacks show the source lines of evaluated code, as they do for files; a traceback
    # rarely reaches code evaluated long ago, so only the latest sources are kept.
    _sources.pop(filename, None)
    _sources[filename] = code
    if len(_sources) > 1000:
        del _sources[next(iter(_sources))]
    namespace = _namespaces.get(flags >> 8)
    if namespace is None:
        namespace = _namespaces[flags >> 8] = {"__name__": "__main__", "__builtins__": __builtins__}
    stream = flags & _STREAM
    out = _Capture("stdout", cap, 1 if stream else None)
    err = _Capture("stderr", cap, 2 if stream else None)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    value = None
    error = None
    try:
        value = _run(code, filename, namespace)
    except SystemExit as e:
        error = {"type": "SystemExit", "message": str(_exit_status(e, err)), "traceback": ""}
    except OutputLimitExceeded as e:
        error = {"type": "OutputLimitExceeded", "message": str(e), "traceback": ""}
    except BaseException as e:
        error = _error(e)
    finally:
        sys.stdout, sys.stderr = saved
    return _json_answer(out.getvalue(), err.getvalue(), value, error)


def _json_string(s):
    # ASCII-only JSON (as json.dumps(ensure_ascii=True)): a lone surrogate in a str would make the
    # host's UTF-8 encoding fail.
    return "null" if s is None else _json.encode_basestring_ascii(s)


def _json_answer(stdout, stderr, value, error):
    if error is None:
        e = "null"
    else:
        e = '{"type": %s, "message": %s, "traceback": %s}' % (
            _json_string(error["type"]), _json_string(error["message"]), _json_string(error["traceback"]))
    return '{"stdout": %s, "stderr": %s, "value": %s, "error": %s}' % (
        _json_string(stdout), _json_string(stderr), _json_string(value), e)
