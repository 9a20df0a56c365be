package io.portcullis.xds;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.model.ResourceKey;
import io.portcullis.model.ServiceAccountRef;
import io.portcullis.source.SourceUpdate;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.validation.EgressRule;
import io.portcullis.validation.PolicyProblem;
import io.portcullis.validation.ValidatedPolicies;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one xDS snapshot per identity in java-control-plane's cache, keyed by ServiceAccount so all
 * sidecars of an identity share it. On a config change only the identities whose accepted policies
 * changed are recomputed; a snapshot is replaced only when its content (and so its version) changes.
 */
public final class EgressControlPlane {

    private static final Logger LOG = LoggerFactory.getLogger(EgressControlPlane.class);

    private final SimpleCache<ServiceAccountRef> cache = new SimpleCache<>(SidecarIdentity::of);
    private final EgressTranslator translator = new EgressTranslator();
    private final Map<ServiceAccountRef, Served> served = new TreeMap<>();
    /** Every HTTP route table name ever served to an identity; see SidecarResources#withRetiredRoutes. */
    private final Map<ServiceAccountRef, Set<String>> routeNamesServed = new TreeMap<>();
    private ValidatedPolicies policies;
    private List<String> sourceProblems = List.of();

    /** What an identity's sidecars are currently served. */
    public record Served(SidecarEgressModel model, SidecarResources resources) {
    }

    public EgressControlPlane() {
        policies = translator.validate(io.portcullis.model.ResourceSnapshot.EMPTY);
    }

    public SimpleCache<ServiceAccountRef> cache() {
        return cache;
    }

    public synchronized void apply(SourceUpdate update) {
        ValidatedPolicies next = translator.validate(update.snapshot());
        logChanges(sourceProblems, update.problems(), Function.identity());
        logChanges(policies.problems(), next.problems(), PolicyProblem::toString);
        Set<ServiceAccountRef> touched = next.mesh().equals(policies.mesh()) ? touchedIdentities(policies, next)
                : new HashSet<>(served.keySet());
        policies = next;
        sourceProblems = update.problems();
        touched.stream().filter(served::containsKey).sorted().forEach(this::refresh);
    }

    /** Builds the snapshot of an identity whose first sidecar just connected. */
    public synchronized void ensureServed(ServiceAccountRef identity) {
        if (!served.containsKey(identity)) {
            refresh(identity);
        }
    }

    public synchronized Optional<Served> served(ServiceAccountRef identity) {
        return Optional.ofNullable(served.get(identity));
    }

    /**
     * What an identity's sidecars get: the snapshot in the cache once one of them has connected,
     * otherwise what it would get, computed on the spot and not cached.
     */
    public synchronized Served current(ServiceAccountRef identity) {
        Served existing = served.get(identity);
        if (existing != null) {
            return existing;
        }
        SidecarEgressModel model = translator.model(policies, identity);
        return new Served(model, translator.resources(model));
    }

    public synchronized Map<ServiceAccountRef, Served> allServed() {
        return Map.copyOf(served);
    }

    /** Problems with the input and the accepted policies, plus merge conflicts of the served identities. */
    public synchronized List<PolicyProblem> policyProblems() {
        List<PolicyProblem> all = new ArrayList<>(policies.problems());
        served.values().forEach(s -> s.model().conflicts().stream().filter(c -> !all.contains(c)).forEach(all::add));
        return all;
    }

    public synchronized List<String> sourceProblems() {
        return sourceProblems;
    }

    public synchronized ValidatedPolicies policies() {
        return policies;
    }

    private void refresh(ServiceAccountRef identity) {
        SidecarEgressModel model = translator.model(policies, identity);
        Served current = served.get(identity);
        if (current != null && current.model().equals(model)) {
            return;
        }
        Set<String> routeNames = routeNamesServed.computeIfAbsent(identity, id -> new java.util.TreeSet<>());
        SidecarResources resources = translator.resources(model).withRetiredRoutes(routeNames);
        resources.routes().forEach(route -> routeNames.add(route.getName()));
        cache.setSnapshot(identity, Snapshot.create(resources.clusters(), List.of(), resources.listeners(),
                resources.routes(), List.of(), resources.version()));
        served.put(identity, new Served(model, resources));
        model.conflicts().forEach(conflict -> LOG.warn("{}", conflict));
        LOG.info("identity {} now served version {} ({} mode, {} ports)", identity, resources.version(),
                model.mode(), model.ports().size());
    }

    /** Sources named by any policy that was added, removed or changed in effect (including its route groups). */
    private static Set<ServiceAccountRef> touchedIdentities(ValidatedPolicies before, ValidatedPolicies after) {
        Map<ResourceKey, EgressRule> old = before.rules().stream().collect(Collectors.toMap(EgressRule::origin, r -> r));
        Map<ResourceKey, EgressRule> now = after.rules().stream().collect(Collectors.toMap(EgressRule::origin, r -> r));
        Set<ServiceAccountRef> touched = new HashSet<>();
        Set<ResourceKey> keys = new HashSet<>(old.keySet());
        keys.addAll(now.keySet());
        for (ResourceKey key : keys) {
            EgressRule a = old.get(key);
            EgressRule b = now.get(key);
            if (a == null || !a.equals(b)) {
                if (a != null) {
                    touched.addAll(a.sources());
                }
                if (b != null) {
                    touched.addAll(b.sources());
                }
            }
        }
        return touched;
    }

    private static <T> void logChanges(List<T> before, List<T> after, Function<T, String> text) {
        after.stream().filter(p -> !before.contains(p)).forEach(p -> LOG.warn("config problem: {}", text.apply(p)));
        before.stream().filter(p -> !after.contains(p)).forEach(p -> LOG.info("config problem resolved: {}", text.apply(p)));
    }
}
