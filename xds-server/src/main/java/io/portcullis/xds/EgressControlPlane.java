package io.portcullis.xds;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.portcullis.decisions.RecentDecisions;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.metrics.ControlPlaneMetrics;
import io.portcullis.source.SourceUpdate;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.validation.EgressRule;
import io.portcullis.validation.IncrementalPolicyValidator;
import io.portcullis.validation.PolicyProblem;
import io.portcullis.validation.ValidatedPolicies;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one xDS snapshot per identity in java-control-plane's cache, keyed by ServiceAccount so all
 * sidecars of an identity share it. On a config change only the identities whose accepted policies
 * changed are recomputed; a snapshot is replaced only when its content (and so its version) changes.
 * When a sidecar rejects its identity's config, the identity fails closed (see {@link FailClosed}).
 */
public final class EgressControlPlane {

    private static final Logger LOG = LoggerFactory.getLogger(EgressControlPlane.class);

    /** How many decisions reported by sidecars {@code serve} keeps for /debug/decisions and the operator page. */
    public static final int DEFAULT_RECENT_DECISIONS = 1000;

    private final SimpleCache<ServiceAccountRef> cache = new SimpleCache<>(SidecarIdentity::of);
    private final EgressTranslator translator = new EgressTranslator();
    /** Validates each update redoing only the resources it changed; equal to translator.validate. */
    private final IncrementalPolicyValidator validator = new IncrementalPolicyValidator();

    private final Map<ServiceAccountRef, Served> served = new TreeMap<>();
    /** Every HTTP route table name ever served to an identity; see SidecarResources#withRetiredRoutes. */
    private final Map<ServiceAccountRef, Set<String>> routeNamesServed = new TreeMap<>();

    private final Map<ServiceAccountRef, IdentityAcceptance> acceptance = new TreeMap<>();
    /**
     * How often each identity's model was recomputed. Only tests read it: an unchanged recomputation
     * keeps the served snapshot object, so recomputing every identity on each change is otherwise
     * invisible from outside (just slow with many identities).
     */
    private final Map<ServiceAccountRef, Integer> recomputations = new TreeMap<>();

    private final List<Consumer<PolicyEvaluation>> evaluationListeners = new CopyOnWriteArrayList<>();

    private final ControlPlaneMetrics metrics;
    private final RecentDecisions decisions;

    private ResourceSnapshot snapshot = ResourceSnapshot.EMPTY;
    private ValidatedPolicies policies;
    private List<String> sourceProblems = List.of();

    /** What an identity's sidecars are currently served. */
    public record Served(SidecarEgressModel model, SidecarResources resources) {}

    /** With metrics of its own (nobody scrapes them) and the default decision buffer: for tests and tools. */
    public EgressControlPlane() {
        this(new ControlPlaneMetrics(), new RecentDecisions(DEFAULT_RECENT_DECISIONS));
    }

    /**
     * @param metrics what this control plane counts into (serve scrapes it at /metrics); its xDS server and
     *     sidecar registry count into the same one
     * @param decisions where the decisions its sidecars report are kept
     */
    public EgressControlPlane(ControlPlaneMetrics metrics, RecentDecisions decisions) {
        this.metrics = metrics;
        this.decisions = decisions;
        policies = translator.validate(ResourceSnapshot.EMPTY);
        updateProblemMetrics();
    }

    public ControlPlaneMetrics metrics() {
        return metrics;
    }

    /** The last decisions its sidecars reported (written by the access log receiver on the xDS server). */
    public RecentDecisions decisions() {
        return decisions;
    }

    public SimpleCache<ServiceAccountRef> cache() {
        return cache;
    }

    /** What the xDS server answers requests from: the cache, never re-sending a version a sidecar rejected. */
    public NackAwareConfigWatcher configWatcher() {
        return new NackAwareConfigWatcher(cache, this::holdsRejected);
    }

    public synchronized void apply(SourceUpdate update) {
        ValidatedPolicies next = validator.validate(update.snapshot());
        logChanges(sourceProblems, update.problems(), Function.identity());
        logChanges(policies.problems(), next.problems(), PolicyProblem::toString);
        Set<ServiceAccountRef> touched = next.mesh().equals(policies.mesh())
                ? touchedIdentities(policies, next)
                : new HashSet<>(served.keySet());
        // A namespace switched between audit and enforce changes every identity in it, whatever its policies.
        Set<String> switched = new HashSet<>(policies.auditedNamespaces());
        switched.addAll(next.auditedNamespaces());
        switched.removeIf(namespace -> policies.auditedNamespaces().contains(namespace)
                == next.auditedNamespaces().contains(namespace));
        served.keySet().stream()
                .filter(identity -> switched.contains(identity.namespace()))
                .forEach(touched::add);
        policies = next;
        snapshot = update.snapshot();
        sourceProblems = update.problems();
        touched.stream().filter(served::containsKey).sorted().forEach(this::refresh);
        updateProblemMetrics();
        announceEvaluation();
    }

    /** What is enforced now: the last snapshot, its validation, and what Envoy rejected since. */
    public synchronized PolicyEvaluation evaluation() {
        return new PolicyEvaluation(snapshot, policies, quarantined());
    }

    /**
     * Calls {@code listener} with the current {@link #evaluation()} now, and again after every config change
     * and every rejection by a sidecar. It is called with the control plane's lock held, in order, so it sees
     * each evaluation exactly as it was enforced; it must hand the evaluation off and return, never block
     * (xDS answers wait on the same lock).
     */
    public synchronized void onEvaluation(Consumer<PolicyEvaluation> listener) {
        evaluationListeners.add(listener);
        listener.accept(evaluation());
    }

    /** Builds the snapshot of an identity whose first sidecar just connected. */
    public synchronized void ensureServed(ServiceAccountRef identity) {
        if (!served.containsKey(identity)) {
            refresh(identity);
            updateProblemMetrics(); // its merge conflicts are problems from now on
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
        served.values()
                .forEach(s -> conflicts(s.model()).stream()
                        .filter(c -> !all.contains(c))
                        .forEach(all::add));
        return all;
    }

    public synchronized List<String> sourceProblems() {
        return sourceProblems;
    }

    /** A sidecar of {@code identity} accepted (ACKed) {@code version} of some type. */
    public synchronized void accepted(ServiceAccountRef identity, String version) {
        IdentityAcceptance record = acceptance.get(identity);
        if (record != null) {
            record.accepted(version);
        }
    }

    /**
     * A sidecar of {@code identity} rejected (NACKed) {@code version} of {@code typeUrl}: decide with
     * {@link FailClosed} what the identity is served instead, and serve it before this returns, so the
     * answer to the NACK is already the narrower config.
     *
     * @param version the version rejected; null when the NACK is for an older response than the last one sent
     */
    public synchronized void rejected(
            ServiceAccountRef identity, String nodeId, String typeUrl, String version, String envoyMessage) {
        String type = SidecarStatus.shortType(typeUrl);
        IdentityAcceptance record = acceptance.get(identity);
        Served current = served.get(identity);
        String currentVersion = current == null ? null : current.resources().version();
        if (record == null || version == null || !version.equals(currentVersion)) {
            if (record != null && version != null) {
                record.rejected(version);
            }
            LOG.error(
                    "sidecar {} of {} REJECTED {} version {}, which it is no longer served ({} is), nothing "
                            + "quarantined: {}",
                    nodeId,
                    identity,
                    type,
                    version == null ? "(older response)" : version,
                    currentVersion,
                    envoyMessage);
            return;
        }
        record.rejected(version);
        ServedInput input = record.input(version);
        switch (FailClosed.decide(input, record.lastAccepted())) {
            case FailClosed.QuarantinePolicies quarantine -> {
                quarantine
                        .blamed()
                        .forEach((policy, rule) -> record.quarantine(
                                new Quarantine(identity, policy, rule, version, type, nodeId, envoyMessage)));
                String without = resources(identity, model(identity, record.inputToServe()))
                        .version();
                boolean rejectedToo = record.rejectedSinceInputChanged(without);
                if (rejectedToo) {
                    // The blamed policies added nothing to the config: without them it is the one rejected.
                    record.lockDown(new Lockdown(identity, version, type, nodeId, envoyMessage));
                }
                LOG.error(
                        "sidecar {} of {} REJECTED {} version {}; quarantined for {} (left out of its config until "
                                + "changed): {}{}; Envoy: {}",
                        nodeId,
                        identity,
                        type,
                        version,
                        identity,
                        new TreeSet<>(quarantine.blamed().keySet()),
                        rejectedToo ? ", and served deny-all since the config without them was rejected too" : "",
                        envoyMessage);
            }
            case FailClosed.DenyAll denyAll -> {
                record.lockDown(new Lockdown(identity, version, type, nodeId, envoyMessage));
                LOG.error(
                        "sidecar {} of {} REJECTED {} version {}; no policy changed since the last accepted version, "
                                + "so {} is served deny-all until its policies or MeshConfig change; Envoy: {}",
                        nodeId,
                        identity,
                        type,
                        version,
                        identity,
                        envoyMessage);
            }
            case FailClosed.StopSending stop ->
                LOG.error(
                        "sidecar {} of {} REJECTED {} version {}, which is deny-all; "
                                + "nothing more is sent to it until {}'s policies or MeshConfig change; Envoy: {}",
                        nodeId,
                        identity,
                        type,
                        version,
                        identity,
                        envoyMessage);
        }
        serve(identity, record);
        updateProblemMetrics();
        announceEvaluation();
    }

    /** Policies left out of some identity's config because its Envoy rejected them. */
    public synchronized List<Quarantine> quarantined() {
        return acceptance.values().stream()
                .flatMap(a -> a.quarantined().stream())
                .toList();
    }

    /** Identities served deny-all because their Envoy rejected a config nothing could be blamed for. */
    public synchronized List<Lockdown> lockdowns() {
        return acceptance.values().stream()
                .map(IdentityAcceptance::lockdown)
                .filter(Objects::nonNull)
                .toList();
    }

    /** How many times {@code identity}'s served config was recomputed (for tests; see the field). */
    synchronized int recomputations(ServiceAccountRef identity) {
        return recomputations.getOrDefault(identity, 0);
    }

    private void announceEvaluation() {
        if (evaluationListeners.isEmpty()) {
            return;
        }
        PolicyEvaluation evaluation = evaluation();
        evaluationListeners.forEach(listener -> listener.accept(evaluation));
    }

    private synchronized boolean holdsRejected(ServiceAccountRef identity, String version) {
        IdentityAcceptance record = acceptance.get(identity);
        return record != null && record.rejectedSinceInputChanged(version);
    }

    private void refresh(ServiceAccountRef identity) {
        recomputations.merge(identity, 1, Integer::sum);
        IdentityAcceptance record = acceptance.computeIfAbsent(identity, id -> new IdentityAcceptance());
        Map<ResourceKey, EgressRule> rules = new TreeMap<>();
        policies.rulesFor(identity).forEach(rule -> rules.put(rule.origin().resource(), rule));
        for (Quarantine lifted : record.newInput(new ServedInput(policies.mesh(), rules, false))) {
            LOG.info("{} changed: no longer quarantined for {}, trying it again", lifted.policy(), identity);
        }
        serve(identity, record);
    }

    private void updateProblemMetrics() {
        metrics.problems(
                policyProblems(),
                sourceProblems.size(),
                quarantined().size(),
                lockdowns().size());
    }

    private void serve(ServiceAccountRef identity, IdentityAcceptance record) {
        long start = metrics.monotonicNanos();
        ServedInput input = record.inputToServe();
        SidecarEgressModel model = model(identity, input);
        Served current = served.get(identity);
        if (current != null && current.model().equals(model)) {
            record.served(current.resources().version(), input);
            metrics.snapshotBuilt(false, start);
            return;
        }
        SidecarResources resources = resources(identity, model);
        resources.routes().forEach(route -> routeNamesServed.get(identity).add(route.getName()));
        record.served(resources.version(), input);
        cache.setSnapshot(
                identity,
                Snapshot.create(
                        resources.clusters(),
                        List.of(),
                        resources.listeners(),
                        resources.routes(),
                        List.of(),
                        resources.version()));
        served.put(identity, new Served(model, resources));
        metrics.snapshotBuilt(true, start);
        conflicts(model).forEach(conflict -> LOG.warn("{}", conflict));
        String shape = switch (model) {
            case SidecarEgressModel.Passthrough passthrough -> "passthrough";
            case SidecarEgressModel.DenyAll denyAll -> "deny-all";
            case SidecarEgressModel.PolicyEnforced policy ->
                "policy, " + policy.ports().size() + " ports";
        };
        LOG.info(
                "identity {} now served version {} ({}{})",
                identity,
                resources.version(),
                shape,
                input.denyAll()
                        ? ", locked down after a rejection"
                        : record.quarantined().isEmpty()
                                ? ""
                                : ", without quarantined "
                                        + record.quarantined().stream()
                                                .map(q -> q.policy().toString())
                                                .toList());
    }

    private static List<PolicyProblem> conflicts(SidecarEgressModel model) {
        return switch (model) {
            case SidecarEgressModel.PolicyEnforced policy -> policy.conflicts();
            // Conflicts are between policies; a model that does not consult them has none.
            case SidecarEgressModel.Passthrough passthrough -> List.of();
            case SidecarEgressModel.DenyAll denyAll -> List.of();
        };
    }

    /** The resources of a model, with tombstones for the route tables it no longer has (see SidecarResources). */
    private SidecarResources resources(ServiceAccountRef identity, SidecarEgressModel model) {
        Set<String> routeNames = routeNamesServed.computeIfAbsent(identity, id -> new TreeSet<>());
        return translator.resources(model).withRetiredRoutes(routeNames);
    }

    /** The model of an input: only its policies (in validation order, so an unchanged input gives an unchanged model). */
    private SidecarEgressModel model(ServiceAccountRef identity, ServedInput input) {
        if (input.denyAll()) {
            return new SidecarEgressModel.DenyAll(identity);
        }
        List<EgressRule> rules = policies.rulesFor(identity).stream()
                .filter(rule -> input.rules().containsKey(rule.origin().resource()))
                .toList();
        return translator.model(
                new ValidatedPolicies(input.mesh(), rules, List.of(), policies.auditedNamespaces()), identity);
    }

    /** Sources named by any policy that was added, removed or changed in effect (including its route groups). */
    private static Set<ServiceAccountRef> touchedIdentities(ValidatedPolicies before, ValidatedPolicies after) {
        Optional<Set<ServiceAccountRef>> inPlace = touchedInPlace(before.rules(), after.rules());
        if (inPlace.isPresent()) {
            return inPlace.get();
        }
        Map<ResourceKey, EgressRule> old =
                before.rules().stream().collect(Collectors.toMap(r -> r.origin().resource(), r -> r));
        Map<ResourceKey, EgressRule> now =
                after.rules().stream().collect(Collectors.toMap(r -> r.origin().resource(), r -> r));
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

    /**
     * The common case, without hashing every rule of the mesh: the same policies in the same order (rules are
     * in validation order, and the validator keeps the rule object of an unchanged Egress), some changed in
     * place. Empty when a policy was added, removed or moved.
     */
    @SuppressWarnings("ReferenceEquality") // the same rule object first, equals only when it is not
    private static Optional<Set<ServiceAccountRef>> touchedInPlace(List<EgressRule> before, List<EgressRule> after) {
        if (before.size() != after.size()) {
            return Optional.empty();
        }
        Set<ServiceAccountRef> touched = new HashSet<>();
        for (int i = 0; i < before.size(); i++) {
            EgressRule a = before.get(i);
            EgressRule b = after.get(i);
            if (a == b) {
                continue;
            }
            if (!a.origin().equals(b.origin())) {
                return Optional.empty();
            }
            if (!a.equals(b)) {
                touched.addAll(a.sources());
                touched.addAll(b.sources());
            }
        }
        return Optional.of(touched);
    }

    private static <T> void logChanges(List<T> before, List<T> after, Function<T, String> text) {
        after.stream().filter(p -> !before.contains(p)).forEach(p -> LOG.warn("config problem: {}", text.apply(p)));
        before.stream()
                .filter(p -> !after.contains(p))
                .forEach(p -> LOG.info("config problem resolved: {}", text.apply(p)));
    }
}
