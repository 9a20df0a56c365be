package io.portcullis.xds;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.portcullis.decisions.RecentDecisions;
import io.portcullis.envoy.ModelWithoutIdentity;
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
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one xDS snapshot per identity in java-control-plane's cache, keyed by ServiceAccount so all
 * sidecars of an identity share it. On a config change only the identities whose accepted policies
 * changed are recomputed; a snapshot is replaced only when its content (and so its version) changes.
 * When a sidecar rejects its identity's config, the identity fails closed (see {@link FailClosed}).
 *
 * <p>Threads: every translation runs on {@link TranslationThreads}, never on a gRPC thread. A config change
 * builds, before any sidecar asks, the snapshot of every identity a policy names (so a connect storm is
 * answered from the cache), in parallel over a small pool. What gRPC threads call ({@link #ensureServed},
 * {@link #accepted}, {@link #rejected}, {@link #served}, the watcher's check for rejected versions) reads state
 * published atomically ({@link #enforced}, the {@link #built} map, the cache) or takes an identity's
 * acceptance monitor, which is held only for bookkeeping, never during a translation; at most it hands work to
 * the translation threads. A sidecar whose identity has no snapshot yet keeps its watch open: SimpleCache
 * answers it when the snapshot is set.
 */
public final class EgressControlPlane {

    private static final Logger LOG = LoggerFactory.getLogger(EgressControlPlane.class);

    /** How many decisions reported by sidecars {@code serve} keeps for /debug/decisions and the operator page. */
    public static final int DEFAULT_RECENT_DECISIONS = 1000;

    private final SimpleCache<ServiceAccountRef> cache = new SimpleCache<>(SidecarIdentity::of);
    private final EgressTranslator translator = new EgressTranslator();
    private final TranslationThreads threads = new TranslationThreads(TranslationThreads.defaultBuilderThreads());
    /**
     * The snapshot each identity's sidecars get, prepared or asked for; written by translation threads just
     * before the cache, read by anyone.
     */
    private final Map<ServiceAccountRef, Served> built = new ConcurrentHashMap<>();
    /**
     * The Envoy resources of each model, built once and shared by every identity whose model is equal to it but for
     * the identity (the resources do not name it: Envoy reads it from its node metadata). A build is a task, so
     * identities built at once by several translation threads wait for one translation of their common model rather
     * than each doing it. Only what is served or prepared is kept: {@link #load} drops the rest after each change.
     */
    private final Map<ModelWithoutIdentity, SharedBuild> sharedBuilds = new ConcurrentHashMap<>();
    /**
     * The key of the shared build each identity is served, the very instance {@link #sharedBuilds} holds: after a
     * change, finding the builds still in use compares instances instead of hashing and comparing every identity's
     * model (a deep walk of its port plans, a quarter of a one-policy change's CPU at 10,000 policies).
     */
    private final Map<ServiceAccountRef, ModelWithoutIdentity> servedBuildKeys = new ConcurrentHashMap<>();

    /** One model's build, with the key it is kept under. */
    private record SharedBuild(ModelWithoutIdentity key, FutureTask<SidecarResources> task) {
        SidecarResources resources() {
            return task.resultNow(); // only handed out once the task ran
        }
    }
    /**
     * What an identity no policy names is served under the enforced config (one model per namespace mode in use:
     * enforced, and audited if a namespace is): built by {@link #load} before any such sidecar asks, so its first
     * config needs no translation, only a lookup in {@link #sharedBuilds}.
     */
    private volatile Set<ModelWithoutIdentity> prepared = Set.of();
    /**
     * Identities some sidecar connected for: what {@link #served} and {@link #allServed} report (a prepared
     * snapshot nobody asked for is not "served", e.g. for /debug/xds and the operator page).
     */
    private final Set<ServiceAccountRef> asked = ConcurrentHashMap.newKeySet();
    /** Every identity whose snapshot was built or is being built for the first time. */
    private final Map<ServiceAccountRef, IdentityState> identities = new ConcurrentHashMap<>();
    /** Identities whose first build is queued on the first-config thread (so a burst of sidecars queues one). */
    private final Set<ServiceAccountRef> firstBuildsQueued = ConcurrentHashMap.newKeySet();
    /**
     * Validates each update redoing only the resources it changed; equal to translator.validate. Used only by
     * the coordinator (one thread), so its cache needs no lock.
     */
    private final IncrementalPolicyValidator validator = new IncrementalPolicyValidator();
    /**
     * How often each identity's model was recomputed. Only tests read it: an unchanged recomputation
     * keeps the served snapshot object, so recomputing every identity on each change is otherwise
     * invisible from outside (just slow with many identities).
     */
    private final Map<ServiceAccountRef, Integer> recomputations = new ConcurrentHashMap<>();

    private final List<Consumer<PolicyEvaluation>> evaluationListeners = new CopyOnWriteArrayList<>();

    private final ControlPlaneMetrics metrics;
    private final RecentDecisions decisions;
    /** Serves the MeshConfig's values that change at run time (the decision log's sample rate) over RTDS. */
    private final RuntimeDiscovery runtime;

    /** The config being enforced, swapped whole by the coordinator so readers see one consistent state. */
    private volatile Enforced enforced;

    /**
     * Whether a config was applied. Until then no sidecar gets any snapshot (its watch stays open): the empty
     * config's deny-all or passthrough is no identity's real config, and an identity a policy names must never be
     * served anything wider than its policies. {@code serve} opens the xDS port before the first config is read, so
     * sidecars connect while it loads and are answered as soon as their identity is built.
     */
    private volatile boolean loaded;

    /** What an identity's sidecars are currently served. */
    public record Served(SidecarEgressModel model, SidecarResources resources) {}

    /**
     * One config as loaded: the snapshot, its validation (which indexes the accepted rules by identity, so building
     * an identity does not scan every rule) and the problems reading the source.
     */
    private record Enforced(ResourceSnapshot snapshot, ValidatedPolicies policies, List<String> sourceProblems) {

        static Enforced of(ResourceSnapshot snapshot, ValidatedPolicies policies, List<String> sourceProblems) {
            return new Enforced(snapshot, policies, List.copyOf(sourceProblems));
        }

        /** In validation order: an unchanged input gives an unchanged model. */
        List<EgressRule> rulesFor(ServiceAccountRef identity) {
            return policies.rulesFor(identity);
        }
    }

    /**
     * One identity's serving state. {@code build} is held while its snapshot is translated (by one translation
     * thread at a time); {@code acceptance} is guarded by its own monitor, held only for bookkeeping, so gRPC
     * threads that record an ACK or NACK never wait for a translation. Lock order: build, then acceptance.
     */
    private static final class IdentityState {
        final ReentrantLock build = new ReentrantLock();
        final IdentityAcceptance acceptance = new IdentityAcceptance();
        /** Every HTTP route table name ever served to the identity (guarded by build); see SidecarResources#withRetiredRoutes. */
        final Set<String> routeNamesServed = new TreeSet<>();
    }

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
        enforced = Enforced.of(ResourceSnapshot.EMPTY, translator.validate(ResourceSnapshot.EMPTY), List.of());
        // Until the first config: the default's rate (0, refusals only), the same the listeners fall back to.
        runtime = new RuntimeDiscovery(metrics, enforced.policies().mesh().allowedLogPercent());
        updateProblemMetrics();
    }

    /** The RTDS service serving the sidecars the MeshConfig's run-time values; the xDS server exposes it. */
    public RuntimeDiscovery runtimeDiscovery() {
        return runtime;
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

    /**
     * Enforces a new config: on the translation threads, and returns once every identity it changes (and every
     * identity a policy names) has its snapshot in the cache. Config sources call it from their own thread;
     * never call it from a gRPC thread.
     */
    public void apply(SourceUpdate update) {
        metrics.sourceUpdateReceived();
        metrics.configApplied(threads.coordinateAndWaitCpuNanos(() -> load(update)));
    }

    /** Waits until every translation handed over before this call (first configs, answers to NACKs) is done. */
    public void awaitIdle() {
        threads.awaitIdle();
    }

    private void load(SourceUpdate update) {
        // Pieces of Envoy resources the translator keeps for reuse are kept only while this config or the last uses
        // them.
        translator.nextGeneration();
        Enforced before = enforced;
        ValidatedPolicies previous = before.policies();
        ValidatedPolicies next = validator.validate(update.snapshot());
        logChanges(before.sourceProblems(), update.problems(), Function.identity());
        logChanges(previous.problems(), next.problems(), PolicyProblem::toString);
        Enforced now = Enforced.of(update.snapshot(), next, update.problems());
        // Published before the identities to build are chosen: a first build that starts later reads this config,
        // and one that started earlier registered its identity, so it is chosen below (see firstBuild).
        enforced = now;
        // Set before `asked` is read below: a sidecar that connects from here on queues its own first build, one that
        // connected before is in `asked` (see ensureServed).
        loaded = true;
        // The sample rate goes to the sidecars over RTDS, not in their listeners: a change of it alone rebuilds and
        // re-sends no listener (which would also drain each sidecar's listener).
        runtime.publish(next.mesh().allowedLogPercent());
        Set<ServiceAccountRef> touched =
                next.mesh().withoutLogSampling().equals(previous.mesh().withoutLogSampling())
                        ? touchedIdentities(before, now)
                        : new HashSet<>(identities.keySet());
        // A namespace switched between audit and enforce changes every identity in it, whatever its policies.
        Set<String> switched = new HashSet<>(previous.auditedNamespaces());
        switched.addAll(next.auditedNamespaces());
        switched.removeIf(namespace -> previous.auditedNamespaces().contains(namespace)
                == next.auditedNamespaces().contains(namespace));
        identities.keySet().stream()
                .filter(identity -> switched.contains(identity.namespace()))
                .forEach(touched::add);
        touched.retainAll(identities.keySet());
        // Prepared snapshots: every identity a policy names is built now, before its first sidecar asks.
        Set<ServiceAccountRef> named = now.policies().namedIdentities();
        named.stream().filter(identity -> !identities.containsKey(identity)).forEach(touched::add);
        // Sidecars that connected before the first config wait for their identity's first build: those no policy
        // names (deny-all or passthrough, cheap) are queued first, so they are answered at once.
        Set<ServiceAccountRef> waiting = new TreeSet<>(asked);
        waiting.removeIf(identity -> identities.containsKey(identity) || named.contains(identity));
        touched.removeAll(waiting);
        List<Runnable> builds = new ArrayList<>();
        // The shared config of identities no policy names, first: sidecars waiting for it get it at once.
        List<SidecarEgressModel> unnamed = unnamedModels(now);
        prepared = unnamed.stream().map(ModelWithoutIdentity::of).collect(Collectors.toUnmodifiableSet());
        unnamed.forEach(model -> builds.add(() -> sharedBuild(model, false)));
        waiting.forEach(identity -> builds.add(() -> refresh(identity, now)));
        touched.stream().sorted().forEach(identity -> builds.add(() -> refresh(identity, now)));
        threads.buildAll(builds);
        dropUnusedBuilds();
        updateProblemMetrics();
        announceEvaluation();
    }

    /** What is enforced now: the last snapshot, its validation, and what Envoy rejected since. */
    public PolicyEvaluation evaluation() {
        Enforced now = enforced;
        return new PolicyEvaluation(now.snapshot(), now.policies(), quarantined());
    }

    /**
     * Calls {@code listener} with the current {@link #evaluation()} now, and again after every config change
     * and every rejection by a sidecar. It is called on the translation coordinator, in order, so it sees each
     * evaluation exactly as it was enforced; it must hand the evaluation off and return, never block (config
     * changes and answers to NACKs wait behind it).
     */
    public void onEvaluation(Consumer<PolicyEvaluation> listener) {
        threads.coordinateAndWait(() -> {
            evaluationListeners.add(listener);
            listener.accept(evaluation());
        });
    }

    /**
     * A sidecar of {@code identity} connected. If the identity has no snapshot yet (no policy names it, or a config
     * change is still building it), its first one is built on the first-config thread; before the first config is
     * applied nothing is built, and that config builds it. This returns at once, and the sidecar's watch stays open
     * until the snapshot is in the cache. Tests: {@link #awaitIdle()} after it.
     */
    public void ensureServed(ServiceAccountRef identity) {
        asked.add(identity);
        if (!loaded) {
            return; // the first config builds it (load reads `asked` after setting `loaded`)
        }
        if (!built.containsKey(identity) && firstBuildsQueued.add(identity)) {
            threads.firstConfig(() -> {
                try {
                    firstBuild(identity);
                } catch (RuntimeException e) {
                    LOG.error("building the first config of {} failed", identity, e);
                } finally {
                    firstBuildsQueued.remove(identity);
                }
            });
        }
    }

    private void firstBuild(ServiceAccountRef identity) {
        // Registered before the config is read: a config change published after this point finds the identity in
        // `identities` and rebuilds it (waiting for the build lock); one published before is the one read here.
        IdentityState state = identities.computeIfAbsent(identity, id -> new IdentityState());
        state.build.lock();
        try {
            if (!built.containsKey(identity)) {
                refresh(identity, enforced);
            }
        } finally {
            state.build.unlock();
        }
        updateProblemMetrics(); // its merge conflicts are problems from now on
    }

    /** The snapshot of an identity some sidecar connected for, once it is in the cache. */
    public Optional<Served> served(ServiceAccountRef identity) {
        return asked.contains(identity) ? Optional.ofNullable(built.get(identity)) : Optional.empty();
    }

    /**
     * What an identity's sidecars get: the snapshot in the cache once it was built, otherwise what it would
     * get, computed on the spot (on the caller's thread) and not cached.
     */
    public Served current(ServiceAccountRef identity) {
        Served existing = built.get(identity);
        if (existing != null) {
            return existing;
        }
        SidecarEgressModel model = translator.model(enforced.policies(), identity);
        return new Served(model, translator.resources(model));
    }

    /** {@link #served} of every identity some sidecar connected for. */
    public Map<ServiceAccountRef, Served> allServed() {
        Map<ServiceAccountRef, Served> all = new TreeMap<>();
        asked.forEach(identity -> {
            Served snapshot = built.get(identity);
            if (snapshot != null) {
                all.put(identity, snapshot);
            }
        });
        return Collections.unmodifiableMap(all);
    }

    /** Problems with the input and the accepted policies, plus merge conflicts of the served identities. */
    public List<PolicyProblem> policyProblems() {
        List<PolicyProblem> all = new ArrayList<>(enforced.policies().problems());
        Set<PolicyProblem> seen = new HashSet<>(all);
        allServed()
                .values()
                .forEach(s -> conflicts(s.model()).stream().filter(seen::add).forEach(all::add));
        return all;
    }

    public List<String> sourceProblems() {
        return enforced.sourceProblems();
    }

    /**
     * A sidecar of {@code identity} accepted (ACKed) a version of some type, or named the versions it runs:
     * the newest config version of the identity it now holds every type of (see {@link SidecarStatus#holds})
     * counts as accepted, the baseline {@link FailClosed} blames a later rejection against. Bookkeeping only.
     */
    public void accepted(ServiceAccountRef identity, Predicate<SidecarResources.Versions> holds) {
        IdentityState state = identities.get(identity);
        if (state != null) {
            synchronized (state.acceptance) {
                state.acceptance.acceptedWhere(holds);
            }
        }
    }

    /**
     * A sidecar of {@code identity} rejected (NACKed) {@code version} of {@code typeUrl}. On the caller's (gRPC)
     * thread this only records the rejection, so the watch the NACK opens is not answered with the same version
     * (see {@link NackAwareConfigWatcher}); what the identity is served instead is decided with {@link FailClosed}
     * and built on the translation coordinator, and the open watch gets that narrower config when it is set.
     * Tests: {@link #awaitIdle()} after it.
     *
     * <p>Envoy rejects a version of one type, and that type version belongs to the config version served
     * now when it is that config's version of the type: then the current config is the one rejected (for
     * an RDS-only change, the route tables of the new config), and what it was built from is what
     * {@link FailClosed} blames.
     *
     * @param version the version of {@code typeUrl} rejected; null when the NACK is for an older response than
     *     the last one sent
     */
    public void rejected(
            ServiceAccountRef identity, String nodeId, String typeUrl, String version, String envoyMessage) {
        String type = SidecarStatus.shortType(typeUrl);
        IdentityState state = identities.get(identity);
        Served current = built.get(identity);
        String currentVersion =
                current == null ? null : current.resources().versions().of(type).orElse(null);
        if (state != null && version != null) {
            synchronized (state.acceptance) {
                state.acceptance.rejected(type, version);
            }
        }
        if (state == null || version == null || !version.equals(currentVersion)) {
            logNotServed(identity, nodeId, type, version, currentVersion, envoyMessage);
            return;
        }
        threads.coordinate(() -> {
            try {
                failClosed(identity, state, nodeId, type, version, envoyMessage);
            } catch (RuntimeException e) {
                LOG.error("failing {} closed after its sidecar {} rejected {} failed", identity, nodeId, version, e);
            }
        });
    }

    private static void logNotServed(
            ServiceAccountRef identity,
            String nodeId,
            String type,
            String version,
            String currentVersion,
            String envoyMessage) {
        LOG.error(
                "sidecar {} of {} REJECTED {} version {}, which it is no longer served ({} is), nothing "
                        + "quarantined: {}",
                nodeId,
                identity,
                type,
                version == null ? "(older response)" : version,
                currentVersion,
                envoyMessage);
    }

    /** On the coordinator: what the identity is served after {@code version} was rejected. */
    private void failClosed(
            ServiceAccountRef identity,
            IdentityState state,
            String nodeId,
            String type,
            String version,
            String envoyMessage) {
        Enforced now = enforced;
        state.build.lock();
        try {
            Served current = built.get(identity);
            String currentVersion = current == null
                    ? null
                    : current.resources().versions().of(type).orElse(null);
            if (!version.equals(currentVersion)) {
                // A config change replaced the rejected version before this ran; the new one is judged on its own.
                logNotServed(identity, nodeId, type, version, currentVersion, envoyMessage);
                return;
            }
            // From here on, "version" in what people read is the identity's config version; the type version
            // Envoy rejected is on /debug/sidecars.
            String configVersion = current.resources().version();
            IdentityAcceptance record = state.acceptance;
            FailClosed decision;
            synchronized (record) {
                decision = FailClosed.decide(record.input(configVersion), record.lastAccepted());
            }
            switch (decision) {
                case FailClosed.QuarantinePolicies quarantine -> {
                    ServedInput without;
                    synchronized (record) {
                        quarantine
                                .blamed()
                                .forEach((policy, rule) -> record.quarantine(new Quarantine(
                                        identity, policy, rule, configVersion, type, nodeId, envoyMessage)));
                        without = record.inputToServe();
                    }
                    SidecarResources.Versions withoutVersions =
                            resources(state, model(identity, without, now)).versions();
                    boolean rejectedToo;
                    synchronized (record) {
                        // A type version already rejected would not be sent again (NackAwareConfigWatcher), so the
                        // sidecar would keep what it had, maybe wider: the blamed policies were not the cause.
                        rejectedToo = record.rejectedSinceInputChanged(withoutVersions);
                        if (rejectedToo) {
                            // The blamed policies added nothing to the config: without them it is the one rejected.
                            record.lockDown(new Lockdown(identity, configVersion, type, nodeId, envoyMessage));
                        }
                    }
                    LOG.error(
                            "sidecar {} of {} REJECTED {} version {}; quarantined for {} (left out of its config until "
                                    + "changed; config {} rejected): {}{}; Envoy: {}",
                            nodeId,
                            identity,
                            type,
                            version,
                            identity,
                            configVersion,
                            new TreeSet<>(quarantine.blamed().keySet()),
                            rejectedToo ? ", and served deny-all since the config without them was rejected too" : "",
                            envoyMessage);
                }
                case FailClosed.DenyAll denyAll -> {
                    synchronized (record) {
                        record.lockDown(new Lockdown(identity, configVersion, type, nodeId, envoyMessage));
                    }
                    LOG.error(
                            "sidecar {} of {} REJECTED {} version {} (config {}); no policy changed since the last "
                                    + "accepted version, so {} is served deny-all until its policies or MeshConfig "
                                    + "change; Envoy: {}",
                            nodeId,
                            identity,
                            type,
                            version,
                            configVersion,
                            identity,
                            envoyMessage);
                }
                case FailClosed.StopSending stop ->
                    LOG.error(
                            "sidecar {} of {} REJECTED {} version {} (config {}), which is deny-all; "
                                    + "nothing more is sent to it until {}'s policies or MeshConfig change; Envoy: {}",
                            nodeId,
                            identity,
                            type,
                            version,
                            configVersion,
                            identity,
                            envoyMessage);
            }
            serve(identity, state, now);
        } finally {
            state.build.unlock();
        }
        updateProblemMetrics();
        announceEvaluation();
    }

    /** Policies left out of some identity's config because its Envoy rejected them. */
    public List<Quarantine> quarantined() {
        List<Quarantine> all = new ArrayList<>();
        new TreeMap<>(identities).values().forEach(state -> {
            synchronized (state.acceptance) {
                all.addAll(state.acceptance.quarantined());
            }
        });
        return all;
    }

    /** Identities served deny-all because their Envoy rejected a config nothing could be blamed for. */
    public List<Lockdown> lockdowns() {
        List<Lockdown> all = new ArrayList<>();
        new TreeMap<>(identities).values().forEach(state -> {
            synchronized (state.acceptance) {
                all.add(state.acceptance.lockdown());
            }
        });
        return all.stream().filter(Objects::nonNull).toList();
    }

    /** How many builds of Envoy resources are kept to be shared (for tests: they must not pile up). */
    int sharedBuilds() {
        return sharedBuilds.size();
    }

    /** How many times {@code identity}'s served config was recomputed (for tests; see the field). */
    int recomputations(ServiceAccountRef identity) {
        return recomputations.getOrDefault(identity, 0);
    }

    private void announceEvaluation() {
        if (evaluationListeners.isEmpty()) {
            return;
        }
        PolicyEvaluation evaluation = evaluation();
        evaluationListeners.forEach(listener -> listener.accept(evaluation));
    }

    /** Called by gRPC threads (the watcher): bookkeeping only. */
    private boolean holdsRejected(ServiceAccountRef identity, String type, String version) {
        IdentityState state = identities.get(identity);
        if (state == null) {
            return false;
        }
        synchronized (state.acceptance) {
            return state.acceptance.rejectedSinceInputChanged(type, version);
        }
    }

    /** On a translation thread: rebuilds an identity from {@code now}. */
    private void refresh(ServiceAccountRef identity, Enforced now) {
        IdentityState state = identities.computeIfAbsent(identity, id -> new IdentityState());
        state.build.lock();
        try {
            recomputations.merge(identity, 1, Integer::sum);
            Map<ResourceKey, EgressRule> rules = new TreeMap<>();
            now.rulesFor(identity).forEach(rule -> rules.put(rule.origin().resource(), rule));
            List<Quarantine> lifted;
            synchronized (state.acceptance) {
                lifted = state.acceptance.newInput(
                        new ServedInput(now.policies().mesh().withoutLogSampling(), rules, false));
            }
            for (Quarantine quarantine : lifted) {
                LOG.info("{} changed: no longer quarantined for {}, trying it again", quarantine.policy(), identity);
            }
            serve(identity, state, now);
        } finally {
            state.build.unlock();
        }
    }

    /** Problem counts are replaced whole; the lock keeps two translation threads from interleaving them. */
    private synchronized void updateProblemMetrics() {
        metrics.problems(
                policyProblems(),
                enforced.sourceProblems().size(),
                quarantined().size(),
                lockdowns().size());
    }

    /** With the identity's build lock held: translates what it is to be served and puts it in the cache. */
    private void serve(ServiceAccountRef identity, IdentityState state, Enforced now) {
        long start = metrics.monotonicNanos();
        IdentityAcceptance record = state.acceptance;
        ServedInput input;
        List<String> quarantinedNow;
        synchronized (record) {
            input = record.inputToServe();
            quarantinedNow = record.quarantined().stream()
                    .map(q -> q.policy().toString())
                    .toList();
        }
        SidecarEgressModel model = model(identity, input, now);
        Served current = built.get(identity);
        if (current != null && current.model().equals(model)) {
            synchronized (record) {
                record.served(current.resources().versions(), input);
            }
            metrics.snapshotBuilt(false, start);
            return;
        }
        SharedBuild build = sharedBuild(model, true);
        SidecarResources resources = withRetiredRoutes(state, build);
        resources.routes().forEach(route -> state.routeNamesServed.add(route.getName()));
        synchronized (record) {
            record.served(resources.versions(), input);
        }
        // Published before the cache: a sidecar may NACK the new version as soon as setSnapshot sends it, and
        // rejected() must then know it as the version served.
        built.put(identity, new Served(model, resources));
        servedBuildKeys.put(identity, build.key());
        // Each type with its own version: SimpleCache answers a sidecar's open watch of a type only when that
        // type's version differs from the one it ACKed, so a change re-sends only the types it changed.
        cache.setSnapshot(identity, SidecarSnapshot.of(resources));
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
                        : quarantinedNow.isEmpty() ? "" : ", without quarantined " + quarantinedNow);
    }

    private static List<PolicyProblem> conflicts(SidecarEgressModel model) {
        return switch (model) {
            case SidecarEgressModel.PolicyEnforced policy -> policy.conflicts();
            // Conflicts are between policies; a model that does not consult them has none.
            case SidecarEgressModel.Passthrough passthrough -> List.of();
            case SidecarEgressModel.DenyAll denyAll -> List.of();
        };
    }

    /**
     * The resources of a model, with tombstones for the route tables the identity no longer has (see
     * SidecarResources). The build is shared with every identity of an equal model; the tombstones are the
     * identity's own, added to its copy, so one identity's retired routes never reach another's config.
     */
    private SidecarResources resources(IdentityState state, SidecarEgressModel model) {
        return withRetiredRoutes(state, sharedBuild(model, true));
    }

    private static SidecarResources withRetiredRoutes(IdentityState state, SharedBuild build) {
        return build.resources().withRetiredRoutes(state.routeNamesServed);
    }

    /**
     * On a translation thread: the Envoy resources of {@code model}, translated only if no equal model's are kept.
     *
     * @param forIdentity whether an identity is to be served them (counted as shared when they were kept), or they are
     *     only prepared (counted only when translated)
     */
    private SharedBuild sharedBuild(SidecarEgressModel model, boolean forIdentity) {
        ModelWithoutIdentity key = ModelWithoutIdentity.of(model);
        SharedBuild build = new SharedBuild(key, new FutureTask<>(() -> translator.resources(model)));
        SharedBuild kept = sharedBuilds.putIfAbsent(key, build);
        boolean translated = kept == null;
        if (translated) {
            build.task().run();
            kept = build;
        }
        if (forIdentity || translated) {
            metrics.resourcesBuilt(translated);
        }
        try {
            kept.task().get();
            return kept;
        } catch (ExecutionException e) {
            sharedBuilds.remove(key, kept); // the next ask tries again rather than failing for good
            throw e.getCause() instanceof RuntimeException runtime
                    ? runtime
                    : new IllegalStateException("translating " + model.identity() + "'s config failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the translation of an equal model", e);
        }
    }

    /**
     * The models an identity no policy names gets under {@code now}: with no rule, only the mesh settings and whether
     * its namespace is audited make them, so one identity per namespace mode stands for all.
     */
    private List<SidecarEgressModel> unnamedModels(Enforced now) {
        SortedSet<String> audited = now.policies().auditedNamespaces();
        ValidatedPolicies noRules = new ValidatedPolicies(now.policies().mesh(), List.of(), List.of(), audited);
        List<SidecarEgressModel> models = new ArrayList<>();
        // A namespace name no audited namespace has (Kubernetes names never start with '-').
        models.add(translator.model(noRules, new ServiceAccountRef("-enforced", "-unnamed")));
        if (!audited.isEmpty()) {
            models.add(translator.model(noRules, new ServiceAccountRef(audited.first(), "-unnamed")));
        }
        return models;
    }

    /** After a change: drops the builds neither served to an identity nor prepared, so they do not pile up. */
    private void dropUnusedBuilds() {
        Set<ModelWithoutIdentity> served = Collections.newSetFromMap(new IdentityHashMap<>());
        served.addAll(servedBuildKeys.values());
        // The prepared models are at most two (deny-all, enforced and audited): compared by equality.
        sharedBuilds.values().removeIf(build -> !served.contains(build.key()) && !prepared.contains(build.key()));
    }

    /** The model of an input: only its policies (in validation order, so an unchanged input gives an unchanged model). */
    private SidecarEgressModel model(ServiceAccountRef identity, ServedInput input, Enforced now) {
        if (input.denyAll()) {
            return new SidecarEgressModel.DenyAll(identity);
        }
        List<EgressRule> rules = now.rulesFor(identity).stream()
                .filter(rule -> input.rules().containsKey(rule.origin().resource()))
                .toList();
        return translator.model(
                new ValidatedPolicies(
                        input.mesh(), rules, List.of(), now.policies().auditedNamespaces()),
                identity);
    }

    /** Sources named by any policy that was added, removed or changed in effect (including its route groups). */
    private static Set<ServiceAccountRef> touchedIdentities(Enforced before, Enforced after) {
        Optional<Set<ServiceAccountRef>> inPlace =
                touchedInPlace(before.policies().rules(), after.policies().rules());
        if (inPlace.isPresent()) {
            return inPlace.get();
        }
        Map<ResourceKey, EgressRule> old = before.policies().rules().stream()
                .collect(Collectors.toMap(r -> r.origin().resource(), r -> r));
        Map<ResourceKey, EgressRule> now = after.policies().rules().stream()
                .collect(Collectors.toMap(r -> r.origin().resource(), r -> r));
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
