package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.util.OSInfo;

/** The driver's native library, copied once into the cache and rewritten when it differs. */
class SqliteNativeTest {
  @TempDir Path tmp;

  private static byte[] jarCopy() throws Exception {
    String resource =
        "/org/sqlite/native/"
            + OSInfo.getNativeLibFolderPathForCurrentOS()
            + "/"
            + System.mapLibraryName("sqlitejdbc");
    try (InputStream in = org.sqlite.JDBC.class.getResourceAsStream(resource)) {
      return in.readAllBytes();
    }
  }

  @Test
  void copiesTheLibraryOnceAndKeepsAnIntactCopy() throws Exception {
    Path lib = SqliteNative.extract(tmp).orElseThrow();
    assertThat(lib).startsWith(tmp.resolve("native"));
    assertThat(Files.readAllBytes(lib)).isEqualTo(jarCopy());
    Object inode = Files.readAttributes(lib, "unix:ino").get("ino");

    assertThat(SqliteNative.extract(tmp)).contains(lib);
    assertThat(Files.readAttributes(lib, "unix:ino").get("ino")).isEqualTo(inode);
  }

  @Test
  void rewritesACopyThatDiffersFromTheJars() throws Exception {
    Path lib = SqliteNative.extract(tmp).orElseThrow();
    byte[] damaged = Files.readAllBytes(lib);
    damaged[damaged.length / 2] ^= 1; // same size, one bit off
    Files.write(lib, damaged);

    assertThat(SqliteNative.extract(tmp)).contains(lib);
    assertThat(Files.readAllBytes(lib)).isEqualTo(jarCopy());

    Files.write(lib, new byte[] {1, 2, 3}); // truncated
    SqliteNative.extract(tmp);
    assertThat(Files.readAllBytes(lib)).isEqualTo(jarCopy());
  }

  @Test
  void namesThePlatformsFolderAsTheDriverDoes() {
    assertThat(SqliteNative.folder()).isEqualTo(OSInfo.getNativeLibFolderPathForCurrentOS());
  }

  @Test
  void theDriverRunsFromThePreparedCopy() throws Exception {
    SqliteNative.prepare(tmp);
    // Another test in this JVM may have loaded the driver first; then the properties were set by
    // whoever came first and the library is loaded already: SQLite must work either way.
    try (Connection c = DriverManager.getConnection("jdbc:sqlite::memory:");
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT sqlite_version()")) {
      assertThat(r.next()).isTrue();
      assertThat(r.getString(1)).isNotBlank();
    }
    String path = System.getProperty("org.sqlite.lib.path");
    assertThat(path).isNotNull();
    assertThat(Path.of(path, System.getProperty("org.sqlite.lib.name"))).exists();
  }
}
