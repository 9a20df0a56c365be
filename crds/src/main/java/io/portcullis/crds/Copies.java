package io.portcullis.crds;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Immutable defensive copies used by the record compact constructors. */
final class Copies {
    private Copies() {}

    /** null becomes {@code List.of()}; null entries are rejected with a message naming the field. */
    static <T> List<T> list(List<T> in, String field) {
        if (in == null || in.isEmpty()) {
            return List.of();
        }
        for (int i = 0; i < in.size(); i++) {
            if (in.get(i) == null) {
                throw new IllegalArgumentException(
                        field + "[" + i + "] is empty (null): remove the empty list entry or give it a value");
            }
        }
        return List.copyOf(in);
    }

    /** null becomes an empty map; insertion order is kept; null keys/values are rejected. */
    static <V> Map<String, V> orderedMap(Map<String, V> in, String field) {
        if (in == null || in.isEmpty()) {
            return Map.of();
        }
        LinkedHashMap<String, V> copy = new LinkedHashMap<>();
        for (Map.Entry<String, V> e : in.entrySet()) {
            if (e.getKey() == null) {
                throw new IllegalArgumentException(field + " has an entry without a key");
            }
            if (e.getValue() == null) {
                throw new IllegalArgumentException(field + "." + e.getKey()
                        + " has no value: give it a value (a regular expression) or remove it");
            }
            copy.put(e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(copy);
    }

    /**
     * Copy of unknown fields kept for round-tripping. Values are whatever Jackson produced (maps,
     * lists, scalars, possibly null for an explicit YAML null); insertion order is kept.
     */
    static Map<String, Object> extra(Map<String, Object> in) {
        if (in == null || in.isEmpty()) {
            return Map.of();
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(in));
    }
}
