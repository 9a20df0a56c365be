package io.portcullis.source;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portcullis.crds.ManifestProblem;
import io.portcullis.crds.ManifestSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What the directory source holds for one manifest file, and the rule that decides what a read of it
 * may change (see {@link DirectoryConfigSource} for the whole rule).
 *
 * @param read       stamp of the content last read, null if never read
 * @param lastGood   resources of the last clean read, null if there was none
 * @param resources  what the file contributes now
 * @param problems   why the file contributes something other than what it holds now, each naming the file
 * @param changing   a change seen but not yet settled, or null
 */
record WatchedFile(
        FileStamp read,
        List<HasMetadata> lastGood,
        List<HasMetadata> resources,
        List<String> problems,
        Change changing) {

    /** A file the source knows nothing of yet. */
    static final WatchedFile UNSEEN = new WatchedFile(null, null, List.of(), List.of(), null);

    /**
     * A stamp first seen at {@code since}, not yet read.
     *
     * @param stamp          null when the change is that the file is gone
     * @param changingSince  when the file was first seen to differ from what was read (earlier stamps included)
     * @param reported       whether the file has been reported as still changing
     */
    record Change(FileStamp stamp, Instant since, Instant changingSince, boolean reported) {}

    WatchedFile {
        lastGood = lastGood == null ? null : List.copyOf(lastGood);
        resources = List.copyOf(resources);
        problems = List.copyOf(problems);
    }

    WatchedFile changingTo(FileStamp stamp, Instant now) {
        Change next = changing == null
                ? new Change(stamp, now, now, false)
                : new Change(stamp, now, changing.changingSince(), changing.reported());
        return new WatchedFile(read, lastGood, resources, problems, next);
    }

    WatchedFile reportedAsChanging() {
        return new WatchedFile(
                read,
                lastGood,
                resources,
                problems,
                new Change(changing.stamp(), changing.since(), changing.changingSince(), true));
    }

    WatchedFile settledBack() {
        return new WatchedFile(read, lastGood, resources, problems, null);
    }

    /** The file could not be read at all: everything it contributed stays. */
    WatchedFile unreadable(FileStamp stamp, String origin, String why) {
        return new WatchedFile(
                stamp,
                lastGood,
                resources,
                List.of(origin + ": cannot be read (" + why + "): " + keeping()
                        + " until it can; check its permissions and the file system"),
                null);
    }

    /**
     * The outcome of reading {@code bytes} (stamped {@code stamp}) into {@code set}. Only a clean,
     * complete, non-empty read replaces what the file contributes; any other read keeps the last
     * clean read and says why.
     */
    WatchedFile afterRead(FileStamp stamp, byte[] bytes, ManifestSet set, String origin) {
        if (set.hasProblems()) {
            List<String> problems = new ArrayList<>(
                    set.problems().stream().map(ManifestProblem::toString).toList());
            if (lastGood != null && !lastGood.isEmpty()) {
                problems.add(origin + ": " + keeping() + " until the problems above are fixed");
                return new WatchedFile(stamp, lastGood, lastGood, problems, null);
            }
            // Nothing to keep (never read cleanly, or held nothing): its valid documents count, as kubectl
            // would apply them.
            return new WatchedFile(stamp, lastGood, set.resources(), problems, null);
        }
        boolean empty = set.resources().isEmpty() && set.ignored().isEmpty();
        if (empty && lastGood != null && !lastGood.isEmpty()) {
            return new WatchedFile(
                    stamp,
                    lastGood,
                    lastGood,
                    List.of(origin + ": empty: " + keeping() + "; delete the file to remove its resources"),
                    null);
        }
        if (!empty && bytes[bytes.length - 1] != '\n') {
            return new WatchedFile(
                    stamp,
                    lastGood,
                    lastGood == null ? List.of() : lastGood,
                    List.of(origin
                            + ": does not end with a newline, so it may be half-written: " + keeping()
                            + " until it does; end the file with a newline"),
                    null);
        }
        return new WatchedFile(stamp, set.resources(), set.resources(), List.of(), null);
    }

    private String keeping() {
        if (lastGood == null || lastGood.isEmpty()) {
            return "nothing of it is applied";
        }
        return "keeping the " + lastGood.size() + (lastGood.size() == 1 ? " resource" : " resources")
                + " of its last clean read";
    }
}
