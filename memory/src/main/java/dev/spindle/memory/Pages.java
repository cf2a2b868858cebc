package dev.spindle.memory;

import com.dylibso.chicory.runtime.Memory;

/**
 * Page geometry and the one all-zero frame.
 *
 * <p>A Spindle page is one Wasm page (64 KiB): {@link Memory#pages()} counts in that unit, so a
 * page-table entry maps to exactly one unit of {@code memory.grow}, and the table of a maximal
 * 32,767-page memory stays at 32,767 entries. A first write to a shared page copies 64 KiB (about 3
 * µs at the 19-20 GB/s memcpy measured on these machines, docs/PLATFORM-FACTS.md).
 */
final class Pages {
    static final int SHIFT = 16;
    static final int SIZE = 1 << SHIFT;
    static final int MASK = SIZE - 1;

    /**
     * The frame of every zero page. Never written: writes only go through private frames, and a
     * private frame is always a fresh array.
     */
    static final byte[] ZERO = new byte[SIZE];

    static {
        if (SIZE != Memory.PAGE_SIZE) {
            throw new AssertionError("page size must equal the Wasm page size");
        }
    }

    private Pages() {}

    /** Checks what a {@link PageSource} returned for page {@code index}. */
    static byte[] checkLoaded(byte[] frame, int index) {
        if (frame == null) {
            throw new IllegalStateException("page source returned no bytes for page " + index);
        }
        if (frame.length != SIZE) {
            throw new IllegalStateException(
                    "page source returned "
                            + frame.length
                            + " bytes for page "
                            + index
                            + ", expected "
                            + SIZE);
        }
        return frame;
    }
}
