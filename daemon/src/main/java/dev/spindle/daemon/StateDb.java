package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.store.SpindleCache;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The node's state in SQLite ({@code <home>/state.db}): one row per tag, image or snapshot, with
 * its status ({@code writing} is in-flight work), what it was made from, and its parent (lineage).
 * A committed transaction survives {@code kill -9} (SQLite's journal), so after a restart every row
 * says what was true when the process died; {@link Catalog} then reconciles the rows with the
 * files. One connection, used under this object's lock: the node's writes are few and small.
 */
final class StateDb implements AutoCloseable {
  private static final String COLUMNS =
      "tag, kind, status, source, ref, root, commit_id, size_bytes, objects, parent, created_at, updated_at, error,"
          + " pause_ms";

  private final Connection db;

  StateDb(Path file) throws IOException {
    SqliteNative.prepare(SpindleCache.root());
    try {
      db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
      try (Statement s = db.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA synchronous=FULL");
        s.execute("PRAGMA busy_timeout=5000");
        s.execute(
            """
            CREATE TABLE IF NOT EXISTS artifacts (
              tag TEXT PRIMARY KEY,
              kind TEXT NOT NULL CHECK (kind IN ('image', 'snapshot')),
              status TEXT NOT NULL CHECK (status IN ('writing', 'ready', 'failed')),
              source TEXT, ref TEXT, root TEXT, commit_id TEXT,
              size_bytes INTEGER, objects INTEGER,
              parent TEXT,
              created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
              error TEXT)""");
        s.execute("CREATE INDEX IF NOT EXISTS artifacts_parent ON artifacts(parent)");
        addColumnIfMissing(s, "pause_ms", "REAL");
        // What each ready artifact's files looked like when last verified (FileFingerprint).
        s.execute(
            "CREATE TABLE IF NOT EXISTS verified (tag TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)");
      }
    } catch (SQLException e) {
      throw new IOException(
          "cannot open the node's state database " + file + ": " + e.getMessage(), e);
    }
  }

  /** Schema version 2 added pause_ms: a state.db written by an older node gains it in place. */
  private static void addColumnIfMissing(Statement s, String column, String type)
      throws SQLException {
    try (ResultSet r = s.executeQuery("PRAGMA table_info(artifacts)")) {
      while (r.next()) {
        if (column.equals(r.getString("name"))) {
          return;
        }
      }
    }
    s.execute("ALTER TABLE artifacts ADD COLUMN " + column + " " + type);
  }

  synchronized Optional<ImageInfo> get(String tag) {
    List<ImageInfo> r = query("SELECT " + COLUMNS + " FROM artifacts WHERE tag = ?", tag);
    return r.isEmpty() ? Optional.empty() : Optional.of(r.getFirst());
  }

  synchronized List<ImageInfo> all() {
    return query("SELECT " + COLUMNS + " FROM artifacts ORDER BY tag");
  }

  synchronized List<ImageInfo> withStatus(String status) {
    return query("SELECT " + COLUMNS + " FROM artifacts WHERE status = ? ORDER BY tag", status);
  }

  synchronized List<ImageInfo> children(String parent) {
    return query("SELECT " + COLUMNS + " FROM artifacts WHERE parent = ? ORDER BY tag", parent);
  }

  synchronized int count(String kind, String status) {
    return query(
            "SELECT " + COLUMNS + " FROM artifacts WHERE kind = ? AND status = ?", kind, status)
        .size();
  }

  /** Inserts or replaces the whole row; {@code updated_at} becomes now. */
  synchronized void put(ImageInfo i) {
    String now = Instant.now().toString();
    exec(
        "INSERT OR REPLACE INTO artifacts (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        i.tag(),
        i.kind(),
        i.status(),
        i.source(),
        i.ref(),
        i.root(),
        i.commit(),
        i.sizeBytes(),
        i.objects(),
        i.parent(),
        i.createdAt() == null ? now : i.createdAt(),
        now,
        i.error(),
        i.pauseMs());
  }

  /**
   * Inserts a {@code writing} row only if the tag is free, in one statement, so two requests for
   * one tag cannot both win. A {@code failed} row does not hold its tag.
   */
  synchronized boolean claim(ImageInfo i) {
    exec("DELETE FROM artifacts WHERE tag = ? AND status = 'failed'", i.tag());
    String now = Instant.now().toString();
    return exec(
            "INSERT OR IGNORE INTO artifacts ("
                + COLUMNS
                + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            i.tag(),
            i.kind(),
            "writing",
            i.source(),
            i.ref(),
            null,
            null,
            null,
            null,
            i.parent(),
            now,
            now,
            null,
            null)
        == 1;
  }

  synchronized void fail(String tag, String error) {
    exec(
        "UPDATE artifacts SET status = 'failed', error = ?, updated_at = ? WHERE tag = ?",
        error,
        Instant.now().toString(),
        tag);
  }

  /** The fingerprint of {@code tag}'s files when they last verified, if recorded. */
  synchronized Optional<String> verifiedFingerprint(String tag) {
    try (PreparedStatement ps =
        db.prepareStatement("SELECT fingerprint FROM verified WHERE tag = ?")) {
      ps.setString(1, tag);
      try (ResultSet r = ps.executeQuery()) {
        return r.next() ? Optional.of(r.getString(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("state database: " + e.getMessage(), e);
    }
  }

  /** Records that {@code tag}'s files, with this fingerprint, verified (or were just written). */
  synchronized void verified(String tag, String fingerprint) {
    exec("INSERT OR REPLACE INTO verified (tag, fingerprint) VALUES (?, ?)", tag, fingerprint);
  }

  synchronized void delete(String tag) {
    exec("DELETE FROM verified WHERE tag = ?", tag);
    exec("DELETE FROM artifacts WHERE tag = ?", tag);
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      // Closing at shutdown: nothing left to do with the error.
    }
  }

  private int exec(String sql, Object... args) {
    try (PreparedStatement p = prepare(sql, args)) {
      return p.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("state database: " + e.getMessage(), e);
    }
  }

  private List<ImageInfo> query(String sql, Object... args) {
    try (PreparedStatement p = prepare(sql, args);
        ResultSet r = p.executeQuery()) {
      List<ImageInfo> out = new ArrayList<>();
      while (r.next()) {
        out.add(
            new ImageInfo(
                r.getString(1),
                r.getString(2),
                r.getString(3),
                r.getString(4),
                r.getString(5),
                r.getString(6),
                r.getString(7),
                longOrNull(r, 8),
                intOrNull(r, 9),
                r.getString(10),
                r.getString(11),
                r.getString(12),
                r.getString(13),
                doubleOrNull(r, 14),
                null,
                null,
                null));
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException("state database: " + e.getMessage(), e);
    }
  }

  private static Double doubleOrNull(ResultSet r, int column) throws SQLException {
    double v = r.getDouble(column);
    return r.wasNull() ? null : v;
  }

  /** Cuts a snapshot's lineage link (compact: its files are already whole). */
  synchronized void clearParent(String tag) {
    exec(
        "UPDATE artifacts SET parent = NULL, updated_at = ? WHERE tag = ?",
        Instant.now().toString(),
        tag);
  }

  private static Long longOrNull(ResultSet r, int column) throws SQLException {
    long v = r.getLong(column);
    return r.wasNull() ? null : v;
  }

  private static Integer intOrNull(ResultSet r, int column) throws SQLException {
    int v = r.getInt(column);
    return r.wasNull() ? null : v;
  }

  private PreparedStatement prepare(String sql, Object... args) throws SQLException {
    PreparedStatement p = db.prepareStatement(sql);
    for (int i = 0; i < args.length; i++) {
      if (args[i] == null) {
        p.setNull(i + 1, Types.NULL);
      } else {
        p.setObject(i + 1, args[i]);
      }
    }
    return p;
  }
}
