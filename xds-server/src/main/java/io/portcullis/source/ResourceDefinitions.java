package io.portcullis.source;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portcullis.input.ResourceKey;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Every definition of every resource key across a directory's files, kept from one update to the next so that an
 * update redoes only the files whose resources changed. Rebuilding it from all files on every change (hashing
 * 10,000 keys into two maps, then sorting 10,000 resources) was most of what a one-policy change cost the source.
 *
 * <p>The rule it keeps: files in name order, and within a file in document order; a later definition of a key
 * wins, and each later definition is reported against the one before it. What wins comes out in key order,
 * which is the order a {@link io.portcullis.input.ResourceSnapshot} keeps, so the snapshot only checks it.
 *
 * <p>A file's resources are compared by identity: a file that was not read again keeps its list object, and a
 * file read again gets a new one (even if equal, which only costs its keys being taken out and put back). Not
 * thread-safe: the source calls it under its own lock.
 */
final class ResourceDefinitions {

    private record Definition(Path file, int position, HasMetadata resource) {}

    /** Each key's definitions in file then document order; the last one wins. */
    private final TreeMap<ResourceKey, List<Definition>> byKey = new TreeMap<>();
    /** What each file contributed at the last update, and the keys it defined. */
    private final Map<Path, Contribution> contributed = new HashMap<>();
    /** The keys defined more than once, whose later definitions are reported. */
    private final TreeSet<ResourceKey> duplicated = new TreeSet<>();

    private record Contribution(List<HasMetadata> resources, List<ResourceKey> keys) {}

    /** Brings the index to what {@code files} contribute now. */
    @SuppressWarnings("ReferenceEquality") // the same list object is what a file not read again keeps
    void update(SortedMap<Path, WatchedFile> files) {
        for (Map.Entry<Path, WatchedFile> entry : files.entrySet()) {
            Path file = entry.getKey();
            List<HasMetadata> resources = entry.getValue().resources();
            Contribution before = contributed.get(file);
            if (before != null) {
                if (before.resources() == resources) {
                    continue;
                }
                withdraw(file, before);
            }
            contributed.put(file, add(file, resources));
        }
        // Every file present is in the index now, so it holds more only when files were removed.
        if (contributed.size() > files.size()) {
            Iterator<Map.Entry<Path, Contribution>> all = contributed.entrySet().iterator();
            while (all.hasNext()) {
                Map.Entry<Path, Contribution> entry = all.next();
                if (!files.containsKey(entry.getKey())) {
                    withdraw(entry.getKey(), entry.getValue());
                    all.remove();
                }
            }
        }
    }

    /** The winning definition of every key, in key order. */
    List<HasMetadata> winners() {
        List<HasMetadata> winners = new ArrayList<>(byKey.size());
        for (List<Definition> definitions : byKey.values()) {
            winners.add(definitions.getLast().resource());
        }
        return winners;
    }

    /**
     * For each file with a definition that overrides an earlier one, one problem per such definition in document
     * order, naming the file of the definition it overrides.
     *
     * @param relative how a file is named in a problem
     */
    Map<Path, List<String>> overridden(java.util.function.Function<Path, String> relative) {
        if (duplicated.isEmpty()) {
            return Map.of();
        }
        record Overriding(Path file, int position, String problem) {}
        List<Overriding> all = new ArrayList<>();
        for (ResourceKey key : duplicated) {
            List<Definition> definitions = byKey.get(key);
            for (int i = 1; i < definitions.size(); i++) {
                Definition later = definitions.get(i);
                String origin = relative.apply(later.file());
                all.add(new Overriding(
                        later.file(),
                        later.position(),
                        origin + ": " + key + " is also defined in "
                                + relative.apply(definitions.get(i - 1).file()) + "; the definition in " + origin
                                + " wins (files are read in name order)"));
            }
        }
        all.sort(java.util.Comparator.comparing(Overriding::file).thenComparingInt(Overriding::position));
        Map<Path, List<String>> byFile = new HashMap<>();
        all.forEach(
                o -> byFile.computeIfAbsent(o.file(), f -> new ArrayList<>()).add(o.problem()));
        return byFile;
    }

    private Contribution add(Path file, List<HasMetadata> resources) {
        List<ResourceKey> keys = new ArrayList<>(resources.size());
        for (int position = 0; position < resources.size(); position++) {
            HasMetadata resource = resources.get(position);
            ResourceKey key = ResourceKey.of(resource);
            keys.add(key);
            List<Definition> definitions = byKey.computeIfAbsent(key, k -> new ArrayList<>(1));
            Definition definition = new Definition(file, position, resource);
            int at = definitions.size();
            while (at > 0 && definitions.get(at - 1).file().compareTo(file) > 0) {
                at--; // a file added later in time may come earlier in name order
            }
            definitions.add(at, definition);
            if (definitions.size() > 1) {
                duplicated.add(key);
            }
        }
        return new Contribution(resources, keys);
    }

    private void withdraw(Path file, Contribution contribution) {
        for (ResourceKey key : contribution.keys()) {
            List<Definition> definitions = byKey.get(key);
            if (definitions == null) {
                continue; // the file defined the key twice: gone with the first
            }
            definitions.removeIf(definition -> definition.file().equals(file));
            if (definitions.isEmpty()) {
                byKey.remove(key);
            }
            if (definitions.size() < 2) {
                duplicated.remove(key);
            }
        }
    }
}
