package dev.spindle.sandbox.wasi;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.ReadOnlyFileSystemException;
import java.util.Locale;

/**
 * WASI preview1 error numbers, and the one place where Java's file-system exceptions become them.
 * Keeping the mapping here is what lets read-only image file systems and the default file system
 * share every call: {@link ReadOnlyFileSystemException} becomes {@code EROFS}, never a crash.
 */
final class Errno {
  private Errno() {}

  static final int SUCCESS = 0;
  static final int ACCES = 2;
  static final int AGAIN = 6;
  static final int BADF = 8;
  static final int BUSY = 10;
  static final int EXIST = 20;
  static final int FAULT = 21;
  static final int FBIG = 22;
  static final int INVAL = 28;
  static final int IO = 29;
  static final int ISDIR = 31;
  static final int LOOP = 32;
  static final int MFILE = 33;
  static final int NAMETOOLONG = 37;
  static final int NOENT = 44;
  static final int NOSPC = 51;
  static final int NOSYS = 52;
  static final int NOTDIR = 54;
  static final int NOTEMPTY = 55;
  static final int NOTSOCK = 57;
  static final int NOTSUP = 58;
  static final int OVERFLOW = 61;
  static final int PERM = 63;
  static final int ROFS = 69;
  static final int SPIPE = 70;
  static final int XDEV = 75;
  static final int NOTCAPABLE = 76;

  /** The errno for a failure of a {@code java.nio.file} operation. */
  static int of(Exception e) {
    return switch (e) {
      case WasiError w -> w.errno();
      case ReadOnlyFileSystemException _ -> ROFS;
      case UnsupportedOperationException _ -> NOTSUP;
      case NoSuchFileException _ -> NOENT;
      case FileAlreadyExistsException _ -> EXIST;
      case DirectoryNotEmptyException _ -> NOTEMPTY;
      case NotDirectoryException _ -> NOTDIR;
      case NotLinkException _ -> INVAL;
      case FileSystemLoopException _ -> LOOP;
      case AccessDeniedException _ -> ACCES;
      // The default provider reports other errnos only as strerror text in the reason.
      case FileSystemException f -> ofReason(f.getReason());
      case IOException io -> ofReason(io.getMessage());
      case IllegalStateException _ -> BADF; // Non{Readable,Writable}ChannelException
      case IllegalArgumentException _ -> INVAL; // e.g. InvalidPathException
      case SecurityException _ -> ACCES;
      default -> IO;
    };
  }

  private static int ofReason(String reason) {
    if (reason == null) {
      return IO;
    }
    String r = reason.toLowerCase(Locale.ROOT);
    if (r.contains("not a directory")) return NOTDIR;
    if (r.contains("is a directory")) return ISDIR;
    if (r.contains("directory not empty")) return NOTEMPTY;
    if (r.contains("too many levels of symbolic links")) return LOOP;
    if (r.contains("read-only file system")) return ROFS;
    if (r.contains("file exists")) return EXIST;
    if (r.contains("invalid argument")) return INVAL;
    if (r.contains("operation not permitted")) return PERM;
    if (r.contains("cross-device")) return XDEV;
    if (r.contains("no space left")) return NOSPC;
    if (r.contains("file name too long")) return NAMETOOLONG;
    if (r.contains("no such file")) return NOENT;
    if (r.contains("file too large")) return FBIG;
    return IO;
  }
}
