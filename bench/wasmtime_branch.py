"""wasmtime peer for bench/branch: the Wizer path, measured in the same run as Spindle.

Builds a module whose memory is one data segment holding a memory image (the file given, e.g.
a Spindle snapshot's memory.bin), compiles it with memory_init_cow, instantiates it once (which
builds the copy-on-write image) and then N times per N given. Prints one JSON object.
Usage: python wasmtime_branch.py MEMORY_FILE N [N...]
"""
import json
import sys
import time

import wasmtime


def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def section(sid, payload):
    return bytes([sid]) + leb(len(payload)) + payload


def module(image):
    pages = (len(image) + 65535) // 65536
    types = section(1, leb(1) + b"\x60" + leb(2) + b"\x7f\x7e" + leb(0))  # (i32, i64) -> ()
    funcs = section(3, leb(1) + leb(0))
    memory = section(5, leb(1) + b"\x00" + leb(pages))
    exports = section(7, leb(2) + leb(4) + b"poke" + b"\x00" + leb(0) + leb(6) + b"memory" + b"\x02" + leb(0))
    body = leb(0) + b"\x20\x00\x20\x01\x37\x03\x00\x0b"  # local.get 0, local.get 1, i64.store, end
    code = section(10, leb(1) + leb(len(body)) + body)
    data = section(11, leb(1) + b"\x00\x41\x00\x0b" + leb(len(image)) + image)
    return b"\x00asm\x01\x00\x00\x00" + types + funcs + memory + exports + code + data


def main():
    path, counts = sys.argv[1], [int(x) for x in sys.argv[2:]]
    with open(path, "rb") as f:
        image = f.read()
    config = wasmtime.Config()
    config.memory_init_cow = True
    engine = wasmtime.Engine(config)
    t0 = time.perf_counter()
    wasm = module(image)
    mod = wasmtime.Module(engine, wasm)
    build = time.perf_counter() - t0
    del wasm
    t0 = time.perf_counter()
    store = wasmtime.Store(engine)
    first = wasmtime.Instance(store, mod, [])
    first_s = time.perf_counter() - t0
    result = {"module_build_s": build, "first_instantiate_s": first_s, "branch_s": {}}
    for n in counts:
        keep = []
        t0 = time.perf_counter()
        for _ in range(n):
            s = wasmtime.Store(engine)
            keep.append((s, wasmtime.Instance(s, mod, [])))
        result["branch_s"][str(n)] = time.perf_counter() - t0
        del keep
    print(json.dumps(result))


if __name__ == "__main__":
    main()
