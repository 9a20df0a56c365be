package io.portcullis.source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What the directory source compares to tell that a file changed without reading it: any write
 * changes the size, the modification time or (even when a writer resets the modification time) the
 * inode change time, all in nanoseconds; a file replaced by rename has another {@code fileKey}
 * (device and inode).
 *
 * @param fileKey the file's identity (device and inode on Linux), or the reason its attributes could
 *                not be read, so that an unreadable file has a stamp of its own and is reported, not
 *                taken for deleted
 */
record FileStamp(long size, long modifiedNanos, long changedNanos, Object fileKey) {

    /** The file's stamp now; empty if it does not exist (any more). */
    static Optional<FileStamp> of(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return Optional.of(new FileStamp(
                    attributes.size(),
                    nanos(attributes.lastModifiedTime()),
                    changedNanos(file),
                    Objects.requireNonNullElse(attributes.fileKey(), "")));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(new FileStamp(-1, -1, -1, "unreadable attributes: " + e));
        }
    }

    private static long changedNanos(Path file) throws IOException {
        try {
            return nanos((FileTime) Files.getAttribute(file, "unix:ctime"));
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return -1; // not a Unix file system: size, mtime and file key still tell most writes apart
        }
    }

    private static long nanos(FileTime time) {
        return time.to(TimeUnit.NANOSECONDS);
    }
}
