package io.portcullis.xds;

import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ResourceKey;
import io.portcullis.validation.EgressRule;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * For one identity: what each config version served to it was built from and with which version of each
 * xDS type, which config versions its sidecars accepted, which type versions they rejected, which of its
 * policies are quarantined and whether it is locked down to deny-all. Not thread-safe:
 * {@link EgressControlPlane} holds this object's monitor around every call (never while
 * translating).
 *
 * <p>Envoy ACKs and NACKs per type, and one type version is shared by many config versions (an RDS-only
 * change keeps the CDS and LDS versions). So a config version counts as accepted only when a sidecar holds
 * every type of it (see {@link SidecarStatus#holds}), and a rejection is of a type version: every config
 * served with it contains what Envoy rejected, so none of them counts as accepted and none is re-sent.
 */
final class IdentityAcceptance {

    /** One version of one xDS type (Cluster, Listener, RouteConfiguration). */
    record TypeVersion(String type, String version) {}

    /** What one config version was built from, and the versions of its types. */
    private record Served(ServedInput input, SidecarResources.Versions versions) {}

    /** Versions whose input is remembered; a sidecar ACKs or NACKs within seconds of being sent one. */
    private static final int VERSIONS_KEPT = 64;

    private static final int ACCEPTED_KEPT = 8;

    /** By config version, in access order, so the version being served (looked up on every NACK) is the last to go. */
    private final Map<String, Served> inputs = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Served> eldest) {
            return size() > VERSIONS_KEPT;
        }
    };
    /** Accepted versions, newest first; a version later rejected by another sidecar is taken out. */
    private final Deque<Map.Entry<String, Served>> accepted = new ArrayDeque<>();
    /**
     * Every type version some sidecar rejected (bounded like {@link #inputs}); a config version with one of
     * them never counts as accepted.
     */
    private final Set<TypeVersion> everRejected = java.util.Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<TypeVersion, Boolean> eldest) {
            return size() > VERSIONS_KEPT;
        }
    });
    /** Type versions rejected since the identity's input last changed: never sent again before it changes. */
    private final Set<TypeVersion> rejectedSinceChange = new HashSet<>();

    private final Map<ResourceKey, Quarantine> quarantined = new TreeMap<>();
    private ServedInput lastWanted;
    private Lockdown lockdown;
    private ServedInput lockdownWanted;

    /**
     * Takes the identity's current input (every accepted policy naming it). Lifts quarantines of policies
     * whose content changed, and a lockdown when the input changed; returns the quarantines lifted.
     */
    List<Quarantine> newInput(ServedInput wanted) {
        if (!wanted.equals(lastWanted)) {
            rejectedSinceChange.clear();
        }
        lastWanted = wanted;
        if (lockdown != null && !wanted.equals(lockdownWanted)) {
            lockdown = null;
            lockdownWanted = null;
        }
        List<Quarantine> lifted = quarantined.values().stream()
                .filter(q -> !q.rule().equals(wanted.rules().get(q.policy())))
                .toList();
        lifted.forEach(q -> quarantined.remove(q.policy()));
        return lifted;
    }

    /** What to build the identity's config from: deny-all when locked down, else the input without quarantined policies. */
    ServedInput inputToServe() {
        if (lockdown != null) {
            return new ServedInput(lastWanted.mesh(), Map.of(), true);
        }
        Map<ResourceKey, EgressRule> rules = new TreeMap<>(lastWanted.rules());
        quarantined.keySet().forEach(rules::remove);
        return new ServedInput(lastWanted.mesh(), rules, false);
    }

    void served(SidecarResources.Versions versions, ServedInput input) {
        inputs.put(versions.config(), new Served(input, versions));
    }

    /** What config version {@code version} was built from; null if no longer known. */
    ServedInput input(String version) {
        Served served = inputs.get(version);
        return served == null ? null : served.input();
    }

    /**
     * A sidecar now holds these type versions: the newest config version remembered that it holds all of
     * counts as accepted, unless a sidecar rejected one of its type versions.
     */
    void acceptedWhere(java.util.function.Predicate<SidecarResources.Versions> holds) {
        String held = null;
        // Iteration does not reorder an access-ordered map; the last match is the most recently served.
        for (Map.Entry<String, Served> entry : inputs.entrySet()) {
            if (holds.test(entry.getValue().versions())) {
                held = entry.getKey();
            }
        }
        if (held != null) {
            accepted(held);
        }
    }

    private void accepted(String version) {
        Served served = inputs.get(version);
        if (served == null
                || containsRejected(served.versions(), everRejected)
                || (!accepted.isEmpty() && accepted.peekFirst().getKey().equals(version))) {
            return;
        }
        accepted.removeIf(e -> e.getKey().equals(version));
        accepted.addFirst(Map.entry(version, served));
        while (accepted.size() > ACCEPTED_KEPT) {
            accepted.removeLast();
        }
    }

    /** A sidecar rejected {@code version} of {@code type}: no config version served with it counts as accepted. */
    void rejected(String type, String version) {
        TypeVersion rejected = new TypeVersion(type, version);
        everRejected.add(rejected);
        rejectedSinceChange.add(rejected);
        accepted.removeIf(e -> version.equals(e.getValue().versions().of(type).orElse(null)));
    }

    /** Whether {@code version} of {@code type} was rejected since the identity's input last changed. */
    boolean rejectedSinceInputChanged(String type, String version) {
        return rejectedSinceChange.contains(new TypeVersion(type, version));
    }

    /** Whether a config with these versions holds a type version rejected since the input last changed. */
    boolean rejectedSinceInputChanged(SidecarResources.Versions versions) {
        return containsRejected(versions, rejectedSinceChange);
    }

    private static boolean containsRejected(SidecarResources.Versions versions, Set<TypeVersion> rejected) {
        return Stream.of(
                        SidecarResources.Versions.LISTENER,
                        SidecarResources.Versions.CLUSTER,
                        SidecarResources.Versions.ROUTE_CONFIGURATION)
                .anyMatch(type -> rejected.contains(
                        new TypeVersion(type, versions.of(type).orElseThrow())));
    }

    /** What the last version a sidecar accepted (and none rejected) was built from; null if none. */
    ServedInput lastAccepted() {
        return accepted.isEmpty() ? null : accepted.peekFirst().getValue().input();
    }

    void quarantine(Quarantine quarantine) {
        quarantined.put(quarantine.policy(), quarantine);
    }

    void lockDown(Lockdown reason) {
        lockdown = reason;
        lockdownWanted = lastWanted;
    }

    List<Quarantine> quarantined() {
        return List.copyOf(quarantined.values());
    }

    Lockdown lockdown() {
        return lockdown;
    }
}
