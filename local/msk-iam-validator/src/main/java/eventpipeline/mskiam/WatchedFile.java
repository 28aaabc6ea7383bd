package eventpipeline.mskiam;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A configuration file read again whenever it changes on disk, so the local broker picks up new
 * principals, topics and groups without a restart (the local broker's stand-in for editing a role's
 * IAM policy). {@link #current()} costs one stat(2): a change is in force for the first request
 * after the write. Writers should write a new file and rename it over the old one, so a reader
 * never sees half a file. A file that no longer parses is reported once and the last good contents
 * stay in force, as IAM refuses to save a malformed policy and keeps the previous version.
 */
final class WatchedFile<T> {
    /** Reads and validates the file; the exception's message says what is wrong. */
    @FunctionalInterface
    interface Parser<T> {
        T parse(Path path) throws Exception;
    }

    /** Hears about reloads, so they appear in the broker log. */
    interface Listener<T> {
        void reloaded(T value);

        void rejected(String problem);
    }

    /** What identifies one version of the file: a rename changes the inode, an edit the time or size. */
    private record Stamp(Object fileKey, long modifiedNanos, long size, String problem) {
        static Stamp of(Path path) {
            try {
                BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
                return new Stamp(attributes.fileKey(),
                        attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS),
                        attributes.size(), null);
            } catch (IOException e) {
                return new Stamp(null, 0, -1, path + " cannot be read: " + e);
            }
        }
    }

    private final Path path;
    private final Parser<T> parser;
    private final Listener<T> listener;
    private volatile Stamp seen;
    private volatile T value;

    private WatchedFile(Path path, Parser<T> parser, Listener<T> listener, Stamp seen, T value) {
        this.path = path;
        this.parser = parser;
        this.listener = listener;
        this.seen = seen;
        this.value = value;
    }

    /** Reads the file now; a problem here is thrown, since there are no good contents to keep. */
    static <T> WatchedFile<T> load(Path path, Parser<T> parser, Listener<T> listener) throws Exception {
        Stamp stamp = Stamp.of(path);
        T value = parser.parse(path);
        return new WatchedFile<>(path, parser, listener, stamp, Objects.requireNonNull(value));
    }

    Path path() {
        return path;
    }

    /** The contents of the newest version that parsed. */
    T current() {
        Stamp now = Stamp.of(path);
        if (!now.equals(seen)) {
            reload(now);
        }
        return value;
    }

    private synchronized void reload(Stamp now) {
        if (now.equals(seen)) {
            return; // another thread got here first
        }
        if (now.problem() != null) {
            listener.rejected(now.problem() + "; keeping the previous contents");
        } else {
            try {
                value = Objects.requireNonNull(parser.parse(path));
                listener.reloaded(value);
            } catch (Exception e) {
                listener.rejected(e.getMessage() + "; keeping the previous contents");
            }
        }
        // Set last: a thread that sees the new stamp sees the new value; one that does not waits
        // here for the parse instead of deciding with the old contents. A bad version is
        // remembered too, so it is reported once rather than parsed again on every request.
        seen = now;
    }
}
