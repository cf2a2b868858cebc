package dev.spindle.memory;

import static org.assertj.core.api.Assertions.assertThat;

import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

class PageHashTest {
  @Test
  void hashesAreTheSha256OfThePageAndZeroForZeroPages() throws Exception {
    PagedMemory m = new PagedMemory(new MemoryLimits(3, 3));
    m.writeI32(PageTable.PAGE_SIZE + 12, 0xCAFE);
    PageTable first = m.snapshot();
    byte[] page1 = m.readBytes(PageTable.PAGE_SIZE, PageTable.PAGE_SIZE);
    assertThat(first.sha256(1)).isEqualTo(MessageDigest.getInstance("SHA-256").digest(page1));
    assertThat(first.sha256(0)).isEqualTo(new byte[32]);

    m.writeI32(2 * PageTable.PAGE_SIZE, 7);
    PageTable second = m.snapshot();
    // Page 1 was not written again: same frame, same hash; page 2 changed.
    assertThat(second.sha256(1)).isEqualTo(first.sha256(1));
    assertThat(second.sha256(2)).isNotEqualTo(first.sha256(2));
    assertThat(second.sha256(2))
        .isEqualTo(
            MessageDigest.getInstance("SHA-256")
                .digest(m.readBytes(2 * PageTable.PAGE_SIZE, PageTable.PAGE_SIZE)));
  }
}
