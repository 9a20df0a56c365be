package io.portcullis.xds;

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

/**
 * For one identity: what each version served to it was built from, which versions its sidecars accepted
 * and rejected, which of its policies are quarantined and whether it is locked down to deny-all. Not
 * thread-safe: {@link EgressControlPlane} holds this object's monitor around every call (never while translating).
 */
final class IdentityAcceptance {

    /** Versions whose input is remembered; a sidecar ACKs or NACKs within seconds of being sent one. */
    private static final int VERSIONS_KEPT = 64;

    private static final int ACCEPTED_KEPT = 8;

    /** In access order, so the version being served (looked up on every ACK) is the last to go. */
    private final Map<String, ServedInput> inputs = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ServedInput> eldest) {
            return size() > VERSIONS_KEPT;
        }
    };
    /** Accepted versions, newest first; a version later rejected by another sidecar is taken out. */
    private final Deque<Map.Entry<String, ServedInput>> accepted = new ArrayDeque<>();
    /** Every version some sidecar rejected (bounded like {@link #inputs}); such a version never counts as accepted. */
    private final Set<String> everRejected = java.util.Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > VERSIONS_KEPT;
        }
    });
    /** Versions rejected since the identity's input last changed: never served again before it changes. */
    private final Set<String> rejectedSinceChange = new HashSet<>();

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

    void served(String version, ServedInput input) {
        inputs.put(version, input);
    }

    ServedInput input(String version) {
        return inputs.get(version);
    }

    void accepted(String version) {
        ServedInput input = inputs.get(version);
        if (input == null
                || everRejected.contains(version)
                || (!accepted.isEmpty() && accepted.peekFirst().getKey().equals(version))) {
            return;
        }
        accepted.removeIf(e -> e.getKey().equals(version));
        accepted.addFirst(Map.entry(version, input));
        while (accepted.size() > ACCEPTED_KEPT) {
            accepted.removeLast();
        }
    }

    void rejected(String version) {
        everRejected.add(version);
        rejectedSinceChange.add(version);
        accepted.removeIf(e -> e.getKey().equals(version));
    }

    boolean rejectedSinceInputChanged(String version) {
        return rejectedSinceChange.contains(version);
    }

    /** What the last version a sidecar accepted (and none rejected) was built from; null if none. */
    ServedInput lastAccepted() {
        return accepted.isEmpty() ? null : accepted.peekFirst().getValue();
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
