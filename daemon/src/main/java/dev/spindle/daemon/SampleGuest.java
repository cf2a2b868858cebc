package dev.spindle.daemon;

/**
 * A tiny reactor module, assembled by hand so that {@code spindle quickstart} and the API benchmark
 * need no compiler: it exports {@code add(i32, i32) -> i32} and {@code next() -> i32} (a counter in
 * a mutable global, so successive calls show the sandbox keeps its state).
 *
 * <pre>
 * (module
 *   (memory (export "memory") 1)
 *   (global $n (mut i32) (i32.const 0))
 *   (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
 *   (func (export "next") (result i32) global.get $n i32.const 1 i32.add global.set $n global.get $n))
 * </pre>
 */
public final class SampleGuest {
  private SampleGuest() {}

  private static final byte[] WASM =
      bytes(
          0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
          0x01, 0x0b, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x01,
          0x7f, // types: (i32 i32)->i32, ()->i32
          0x03, 0x03, 0x02, 0x00, 0x01, // functions: add: type 0, next: type 1
          0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page
          0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b, // global: mut i32 = 0
          0x07, 0x17, 0x03, // exports: 3
          0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 0x03, 'a', 'd', 'd', 0x00, 0x00, 0x04,
          'n', 'e', 'x', 't', 0x00, 0x01, 0x0a, 0x15, 0x02, // code: 2 bodies
          0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, // add
          0x0b, 0x00, 0x23, 0x00, 0x41, 0x01, 0x6a, 0x24, 0x00, 0x23, 0x00, 0x0b); // next

  /** The module's bytes (a fresh copy). */
  public static byte[] wasm() {
    return WASM.clone();
  }

  private static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }
}
