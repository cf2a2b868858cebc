/**
 * Spindle images as read-only {@link java.nio.file.FileSystem}s: the only public type is {@link
 * dev.spindle.image.nio.SpindleFileSystemProvider}, found by {@code FileSystems} through {@code
 * META-INF/services}; callers use {@code FileSystems}, {@code Path} and {@code Files}.
 *
 * <p>Inside, one concept per class, as jimfs:
 *
 * <ul>
 *   <li>{@code SpindleFileSystemProvider} dispatches; {@code ImageFileSystem} holds the parts of
 *       one open image and {@code FileSystemState} its lifecycle (open check, what to close).
 *   <li>{@code FileOperations} does every file operation, with exact NIO exceptions; {@code
 *       ReadOnlyOptions} is the one place that refuses writing open options.
 *   <li>{@code ImagePath} is the path value (no I/O), {@code ImageUris} its URI form, {@code Globs}
 *       the glob syntax of path matchers.
 *   <li>{@code BlobChannel} reads a file's bytes from a {@code BufferedBlob} (small files) or a
 *       {@code StreamedBlob} (large ones); {@code ImageDirectoryStream} lists a directory.
 *   <li>{@code ImageFileAttributes} maps a Git entry to POSIX attributes; {@code AttributeProvider}
 *       (one constant per view) and {@code AttributeService} answer the {@code "view:a,b"} string
 *       form; {@code ImageAttributeView} is the read-only view object; {@code ImageFileStore} the
 *       read-only store; {@code Env} the checked {@code env} map.
 * </ul>
 */
package dev.spindle.image.nio;
