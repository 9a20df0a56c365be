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
    private Map<ResourceKey, KnownRouteGroup> routeGroups = new HashMap<>();
    private Map<ResourceKey, KnownEgress> egresses = new HashMap<>();
    private int validatedLastTime;

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
    public ValidatedPolicies validate(ResourceSnapshot snapshot) {
        int validated = 0;
        List<PolicyProblem> problems = new ArrayList<>();
        PolicyValidator.RouteGroupIndex index = new PolicyValidator.RouteGroupIndex();
        Map<ResourceKey, KnownRouteGroup> nextGroups =
                HashMap.newHashMap(snapshot.routeGroups().size());
        for (HTTPRouteGroup group : snapshot.routeGroups()) {
            ResourceKey key = ResourceKey.of(group);
            KnownRouteGroup known = routeGroups.get(key);
            if (known == null || !unchanged(known.group(), group)) {
                known = new KnownRouteGroup(group, validator.routeGroup(group));
                validated++;
            }
            nextGroups.put(key, known);
            problems.addAll(known.outcome().problems());
            index.add(group, known.outcome());
        }
        List<EgressRule> rules = new ArrayList<>();
        Map<ResourceKey, KnownEgress> nextEgresses =
                HashMap.newHashMap(snapshot.egresses().size());
        for (Egress egress : snapshot.egresses()) {
            ResourceKey key = ResourceKey.of(egress);
            KnownEgress known = egresses.get(key);
            if (known == null
                    || !unchanged(known.egress(), egress)
                    || !known.lookups().stream().allMatch(lookup -> lookup.stillAnswered(index))) {
                List<Lookup> lookups = new ArrayList<>();
                PolicyValidator.ValidatedEgress outcome = validator.egress(egress, new Recording(index, lookups));
                known = new KnownEgress(egress, List.copyOf(lookups), outcome);
                validated++;
            }
            nextEgresses.put(key, known);
            problems.addAll(known.outcome().problems());
            known.outcome().rule().ifPresent(rules::add);
        }
        routeGroups = nextGroups;
        egresses = nextEgresses;
        validatedLastTime = validated;
        return new ValidatedPolicies(snapshot.mesh(), rules, problems, snapshot.auditedNamespaces());
    }

    /** How many resources the last {@link #validate} call validated (the rest it kept), for tests and logs. */
    public int validatedLastTime() {
        return validatedLastTime;
    }

    private static boolean unchanged(Object before, Object now) {
        return before == now || before.equals(now);
    }
}
