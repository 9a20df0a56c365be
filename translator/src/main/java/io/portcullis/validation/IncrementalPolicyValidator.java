package io.portcullis.validation;

import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@link PolicyValidator#validate} for a sequence of snapshots, redoing only what a change touches: it keeps each
 * resource's outcome and validates again only
 * <ul>
 * <li>an HTTPRouteGroup that is new or changed (its outcome depends on nothing else), and</li>
 * <li>an Egress that is new or changed, or one of whose route-group lookups now answers differently (a group
 * it names appeared, disappeared, became valid or invalid, or changed its matches).</li>
 * </ul>
 * The result is equal to {@code new PolicyValidator().validate(snapshot)}, problems included and in the same
 * order ({@code IncrementalPolicyValidatorPropertyTest} checks it on random sequences of changes).
 *
 * <p>Why this is safe: {@link PolicyValidator} validates a route group from the group alone and an Egress from
 * the Egress and the {@link PolicyValidator.RouteGroupLookup} answers alone; the MeshConfig and the audited
 * namespaces are only passed through to the result. Should validation ever read more (the MeshConfig, say),
 * that must become a parameter of those methods and part of what is compared here.
 *
 * <p>"Unchanged" is the same object (both config sources keep the objects of what did not change), else an
 * equal one. Resources are treated as immutable once they are in a snapshot. Not thread-safe: one caller
 * (the control plane, under its lock) owns an instance.
 */
public final class IncrementalPolicyValidator {

    private final PolicyValidator validator = new PolicyValidator();
    /** The last snapshot's route groups and Egresses with their outcomes, in the snapshot's order. */
    private List<KnownRouteGroup> routeGroups = List.of();

    private List<KnownEgress> egresses = List.of();
    private PolicyValidator.RouteGroupIndex routeGroupIndex = new PolicyValidator.RouteGroupIndex();
    private int validatedLastTime;
    /** The last result, whose identity index the next one starts from. */
    private ValidatedPolicies last;

    private record KnownRouteGroup(HTTPRouteGroup group, PolicyValidator.ValidatedRouteGroup outcome) {}

    /** An Egress's outcome and every lookup of a route group that outcome was computed from. */
    private record KnownEgress(Egress egress, List<Lookup> lookups, PolicyValidator.ValidatedEgress outcome) {}

    /** One question validation asked about route groups, and the answer it got. */
    private sealed interface Lookup {
        boolean stillAnswered(PolicyValidator.RouteGroupLookup now);
    }

    private record Exists(String namespace, String name, boolean answer) implements Lookup {
        @Override
        public boolean stillAnswered(PolicyValidator.RouteGroupLookup now) {
            return now.exists(namespace, name) == answer;
        }
    }

    private record ValidMatches(ResourceKey key, List<HttpRequestMatch> answer) implements Lookup {
        @Override
        public boolean stillAnswered(PolicyValidator.RouteGroupLookup now) {
            return Objects.equals(now.validMatches(key), answer);
        }
    }

    /** Records the lookups of one Egress's validation. */
    private record Recording(PolicyValidator.RouteGroupLookup delegate, List<Lookup> lookups)
            implements PolicyValidator.RouteGroupLookup {
        @Override
        public boolean exists(String namespace, String name) {
            boolean answer = delegate.exists(namespace, name);
            lookups.add(new Exists(namespace, name, answer));
            return answer;
        }

        @Override
        public List<HttpRequestMatch> validMatches(ResourceKey key) {
            List<HttpRequestMatch> answer = delegate.validMatches(key);
            lookups.add(new ValidMatches(key, answer));
            return answer;
        }
    }

    /** The same result as {@link PolicyValidator#validate}, validating only what changed since the last call. */
    @SuppressWarnings("ReferenceEquality") // the same object is what the sources keep for what did not change
    public ValidatedPolicies validate(ResourceSnapshot snapshot) {
        int validated = 0;
        List<PolicyProblem> problems = new ArrayList<>();
        // Most updates change one resource in place, so each resource is first compared with the one at its
        // position last time; only a resource that moved (something was added or removed before it) is looked
        // up by key. Hashing every key of a large mesh on every update cost more than the rest.
        Previous<KnownRouteGroup> previousGroups = new Previous<>(routeGroups, known -> known.group());
        List<KnownRouteGroup> nextGroups =
                new ArrayList<>(snapshot.routeGroups().size());
        boolean groupsAsBefore = snapshot.routeGroups().size() == routeGroups.size();
        for (HTTPRouteGroup group : snapshot.routeGroups()) {
            int position = nextGroups.size();
            KnownRouteGroup known = previousGroups.find(position, group);
            // Unchanged at the same position, the same object or an equal one (its file read again): every lookup is
            // answered as before, so the index and the Egresses' outcomes stand. Requiring the same object rebuilt
            // the index and checked every Egress's lookups whenever a file holding a route group was rewritten.
            groupsAsBefore &= known != null && position < routeGroups.size() && known == routeGroups.get(position);
            if (known == null) {
                known = new KnownRouteGroup(group, validator.routeGroup(group));
                validated++;
            }
            nextGroups.add(known);
            problems.addAll(known.outcome().problems());
        }
        PolicyValidator.RouteGroupIndex index = routeGroupIndex;
        if (!groupsAsBefore) {
            index = new PolicyValidator.RouteGroupIndex();
            for (KnownRouteGroup known : nextGroups) {
                index.add(known.group(), known.outcome());
            }
        }
        List<EgressRule> rules = new ArrayList<>(snapshot.egresses().size());
        Previous<KnownEgress> previousEgresses = new Previous<>(egresses, known -> known.egress());
        List<KnownEgress> nextEgresses = new ArrayList<>(snapshot.egresses().size());
        for (Egress egress : snapshot.egresses()) {
            KnownEgress known = previousEgresses.find(nextEgresses.size(), egress);
            if (known == null || !(groupsAsBefore || stillAnswered(known, index))) {
                List<Lookup> lookups = new ArrayList<>();
                PolicyValidator.ValidatedEgress outcome = validator.egress(egress, new Recording(index, lookups));
                known = new KnownEgress(egress, List.copyOf(lookups), outcome);
                validated++;
            }
            nextEgresses.add(known);
            problems.addAll(known.outcome().problems());
            known.outcome().rule().ifPresent(rules::add);
        }
        routeGroups = nextGroups;
        egresses = nextEgresses;
        routeGroupIndex = index;
        validatedLastTime = validated;
        last = new ValidatedPolicies(last, snapshot.mesh(), rules, problems, snapshot.auditedNamespaces());
        return last;
    }

    private static boolean stillAnswered(KnownEgress known, PolicyValidator.RouteGroupLookup index) {
        for (Lookup lookup : known.lookups()) {
            if (!lookup.stillAnswered(index)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The resources of the last snapshot, in order, to find the outcome of an unchanged resource: first at the
     * same position, then (indexed on first need) by key, as the last of that key, which is the one a snapshot
     * with duplicates validated last.
     */
    private static final class Previous<K> {
        private final List<K> inOrder;
        private final java.util.function.Function<K, ? extends io.fabric8.kubernetes.api.model.HasMetadata> resource;
        private Map<ResourceKey, K> byKey;

        Previous(
                List<K> inOrder,
                java.util.function.Function<K, ? extends io.fabric8.kubernetes.api.model.HasMetadata> resource) {
            this.inOrder = inOrder;
            this.resource = resource;
        }

        /** The known outcome of {@code now}, the resource at {@code position}, if it is unchanged; else null. */
        @SuppressWarnings("ReferenceEquality") // the same object first, equals only when it is not
        K find(int position, io.fabric8.kubernetes.api.model.HasMetadata now) {
            if (position < inOrder.size()) {
                K there = inOrder.get(position);
                io.fabric8.kubernetes.api.model.HasMetadata before = resource.apply(there);
                if (before == now) {
                    return there;
                }
                if (ResourceKey.of(before).equals(ResourceKey.of(now))) {
                    return before.equals(now) ? there : null; // changed in place: validated again
                }
            }
            if (byKey == null) {
                byKey = HashMap.newHashMap(inOrder.size());
                inOrder.forEach(known -> byKey.put(ResourceKey.of(resource.apply(known)), known));
            }
            K known = byKey.get(ResourceKey.of(now));
            return known != null && unchanged(resource.apply(known), now) ? known : null;
        }
    }

    /** How many resources the last {@link #validate} call validated (the rest it kept), for tests and logs. */
    public int validatedLastTime() {
        return validatedLastTime;
    }

    private static boolean unchanged(Object before, Object now) {
        return before == now || before.equals(now);
    }
}
