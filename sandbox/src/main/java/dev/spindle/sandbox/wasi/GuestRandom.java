package dev.spindle.sandbox.wasi;

/**
 * The sandbox's random source: SplitMix64 (Steele, Lea, Flood 2014), chosen because its whole state
 * is one {@code long}, so a snapshot captures it exactly and a restored or branched sandbox
 * continues the same stream. Seed it from a secure source when the guest needs secrets.
 */
final class GuestRandom {
  private long state;

  GuestRandom(long state) {
    this.state = state;
  }

  long state() {
    return state;
  }

  long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  void fill(byte[] out) {
    for (int i = 0; i < out.length; i += 8) {
      long r = nextLong();
      for (int j = 0; j < 8 && i + j < out.length; j++) {
        out[i + j] = (byte) (r >>> (8 * j));
      }
    }
  }
}
