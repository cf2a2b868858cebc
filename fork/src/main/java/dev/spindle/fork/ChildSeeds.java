package dev.spindle.fork;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Random-generator seeds for branched sandboxes. forkd's users got the same "random" bytes in every
 * child restored from one snapshot, because each child resumed the snapshot's generator state. Here
 * no child ever resumes it: each gets {@code base + n} for a per-JVM counter {@code n} over a base
 * drawn from {@link SecureRandom}, so no two children of this JVM ever hold the same generator
 * state. The guest's generator (SplitMix64, {@code GuestRandom}) outputs {@code mix(state + k·γ)}
 * with {@code mix} a bijection, so distinct states give distinct first draws, and states {@code d}
 * apart coincide only {@code d·γ⁻¹ mod 2⁶⁴} draws apart (for {@code d = 1}, about 2⁶³). Against the
 * parent and other JVMs the streams are independent 64-bit draws.
 */
final class ChildSeeds {
  private static final AtomicLong NEXT = new AtomicLong(new SecureRandom().nextLong());

  private ChildSeeds() {}

  static long next() {
    return NEXT.getAndIncrement();
  }
}
