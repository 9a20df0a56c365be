package io.portcullis.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.portcullis.decisions.EgressDecision;
import io.portcullis.source.SourceEvent;
import io.portcullis.source.SourceEvents;
import io.portcullis.validation.PolicyProblem;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The control plane's metrics, one instance per control plane, over the {@link PrometheusMeterRegistry} it
 * is given (never a global one, so two control planes in one JVM, as in tests, count apart). Every metric is
 * named here, so docs/observability.md ("Control-plane metrics") can list them from one place; the names
 * below are Micrometer's, Prometheus sees dots as underscores, counters with {@code _total} and timers in
 * seconds ({@code _seconds_bucket}, {@code _count}, {@code _sum}).
 *
 * <p>Labels are kept to bounded sets: xDS types, problem causes, source event kinds, decision values. The
 * two open-ended ones, identity and policy on the decision counter, come from an authenticated sidecar and
 * are capped anyway ({@link #MAX_DECISION_LABEL_VALUES}), because a compromised workload controls the
 * policy names it reports.
 */
public final class ControlPlaneMetrics {

    public static final String SIDECARS_CONNECTED = "portcullis.sidecars.connected";
    public static final String SIDECAR_IDENTITIES_CONNECTED = "portcullis.sidecar.identities.connected";
    public static final String SNAPSHOT_BUILDS = "portcullis.snapshot.builds";
    public static final String SNAPSHOT_BUILD_DURATION = "portcullis.snapshot.build.duration";
    public static final String RESOURCE_BUILDS = "portcullis.resource.builds";
    public static final String XDS_RESPONSES = "portcullis.xds.responses";
    public static final String XDS_ACK_LATENCY = "portcullis.xds.ack.latency";
    public static final String XDS_NACKS = "portcullis.xds.nacks";
    public static final String POLICY_PROBLEMS = "portcullis.policy.problems";
    public static final String CONFIG_SOURCE_PROBLEMS = "portcullis.config.source.problems";
    public static final String POLICIES_QUARANTINED = "portcullis.policies.quarantined";
    public static final String IDENTITIES_LOCKED_DOWN = "portcullis.identities.locked.down";
    public static final String CONFIG_SOURCE_EVENTS = "portcullis.config.source.events";
    public static final String EGRESS_DECISIONS = "portcullis.egress.decisions";
    public static final String DECISION_LOG_PROBLEMS = "portcullis.decision.log.problems";
    /** Prometheus: {@code portcullis_config_source_last_update_timestamp_seconds}, wall clock, ms precision. */
    public static final String CONFIG_APPLY_CPU = "portcullis.config.apply.cpu";

    public static final String CONFIG_SOURCE_LAST_UPDATE = "portcullis.config.source.last.update.timestamp";

    /** The xDS types the control plane serves (short names, the {@code type} label). */
    public static final List<String> XDS_TYPES = List.of("Listener", "Cluster", "RouteConfiguration", "Runtime");

    /** Distinct identities, and distinct policies, the decision counter keeps apart; more are dropped. */
    public static final int MAX_DECISION_LABEL_VALUES = 5000;

    /**
     * The policy label of a decision no policy made (the default chain, deny-all, passthrough): empty, as the
     * sidecars' own counter has it, so one PromQL selector ({@code policy=""}) works on both.
     */
    public static final String NO_POLICY = "";

    /** Prometheus text format 0.0.4, what a scrape gets unless it asks for OpenMetrics. */
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    public static final String OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    // Push-to-ACK spans a network round trip and Envoy applying the config: milliseconds to seconds normally,
    // up to the stream's lifetime when a sidecar is stuck. Explicit buckets keep the series count small.
    private static final Duration[] ACK_BUCKETS = {
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofMillis(2500),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60)
    };

    // One identity's model and resources: sub-millisecond for a few policies, more for hundreds of hosts.
    private static final Duration[] BUILD_BUCKETS = {
        Duration.ofNanos(250_000),
        Duration.ofNanos(500_000),
        Duration.ofMillis(1),
        Duration.ofMillis(2),
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofSeconds(5)
    };

    private final PrometheusMeterRegistry registry;
    private final Map<PolicyProblem.Cause, Map<PolicyProblem.Severity, AtomicLong>> policyProblems =
            new EnumMap<>(PolicyProblem.Cause.class);
    private final AtomicLong sourceProblems = new AtomicLong();
    private final AtomicLong quarantined = new AtomicLong();
    private final AtomicLong lockedDown = new AtomicLong();
    private final AtomicLong lastSourceUpdateMillis = new AtomicLong();

    /** Over a registry of its own. */
    public ControlPlaneMetrics() {
        this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    /** @param registry fresh: the label caps are meter filters, which apply only to meters registered after them */
    public ControlPlaneMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
        registry.config()
                .meterFilter(MeterFilter.maximumAllowableTags(
                        EGRESS_DECISIONS, "identity", MAX_DECISION_LABEL_VALUES, MeterFilter.deny()))
                .meterFilter(MeterFilter.maximumAllowableTags(
                        EGRESS_DECISIONS, "policy", MAX_DECISION_LABEL_VALUES, MeterFilter.deny()));
        // Every series of a gauge by label exists from the start at 0, so an alert on "> 0" has a series to watch.
        for (PolicyProblem.Cause cause : PolicyProblem.Cause.values()) {
            Map<PolicyProblem.Severity, AtomicLong> bySeverity = new EnumMap<>(PolicyProblem.Severity.class);
            for (PolicyProblem.Severity severity : PolicyProblem.Severity.values()) {
                AtomicLong count = new AtomicLong();
                bySeverity.put(severity, count);
                Gauge.builder(POLICY_PROBLEMS, count, AtomicLong::get)
                        .description("Current problems with the input policies, by cause and severity")
                        .tag("cause", label(cause))
                        .tag("severity", label(severity))
                        .register(registry);
            }
            policyProblems.put(cause, bySeverity);
        }
        // NACKs from 0: Prometheus's increase() cannot see a series that appears already at 1, so an alert on
        // the first NACK needs the series before it.
        XDS_TYPES.forEach(type -> nackCounter(type));
        Gauge.builder(CONFIG_SOURCE_PROBLEMS, sourceProblems, AtomicLong::get)
                .description("Current problems reading the config source (files or objects that did not read cleanly)")
                .register(registry);
        Gauge.builder(POLICIES_QUARANTINED, quarantined, AtomicLong::get)
                .description("Policies left out of an identity's config because its Envoy rejected the config")
                .register(registry);
        Gauge.builder(IDENTITIES_LOCKED_DOWN, lockedDown, AtomicLong::get)
                .description("Identities served deny-all because their Envoy rejected a config nothing could be "
                        + "blamed for")
                .register(registry);
        // The start point of "the control plane received the change": the directory source waits for files to
        // settle (1 s) before it publishes, so "file replaced" alone would hide what the control plane costs.
        Gauge.builder(CONFIG_SOURCE_LAST_UPDATE, lastSourceUpdateMillis, millis -> millis.get() / 1000.0)
                .description("Wall-clock time the config source last delivered an update to the control plane "
                        + "(0: none yet)")
                .baseUnit("seconds")
                .register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * The Prometheus exposition of every metric.
     *
     * @param accept the scrape's Accept header (null: none): OpenMetrics when it asks for it, else text 0.0.4
     */
    public Scrape scrape(String accept) {
        String contentType =
                accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
        return new Scrape(contentType, registry.scrape(contentType));
    }

    /** A scrape's body and the Content-Type it is in. */
    public record Scrape(String contentType, String body) {}

    /** The connected sidecars (ADS streams) and how many distinct identities they are, read at each scrape. */
    public void connectedSidecars(Supplier<Integer> sidecars, Supplier<Integer> identities) {
        Gauge.builder(SIDECARS_CONNECTED, sidecars, s -> s.get())
                .description("Sidecars connected over ADS (one per stream)")
                .strongReference(true)
                .register(registry);
        Gauge.builder(SIDECAR_IDENTITIES_CONNECTED, identities, s -> s.get())
                .description("Distinct identities (namespace/ServiceAccount) with at least one connected sidecar")
                .strongReference(true)
                .register(registry);
    }

    /**
     * A config update was enforced: every identity it touched has its new snapshot in the cache.
     *
     * @param cpuNanos CPU time of the translation threads for it: validation, the identities' models and Envoy
     *     resources, and putting them in the cache (not reading the source, nor gRPC sending the responses)
     */
    public void configApplied(long cpuNanos) {
        Timer.builder(CONFIG_APPLY_CPU)
                .description(
                        "CPU time the translation threads spent enforcing one config update (validation, the "
                                + "touched identities' builds, the cache update); the sum over the count is the cost per change")
                .register(registry)
                .record(Duration.ofNanos(cpuNanos));
    }

    /** Nanoseconds on the registry's monotonic clock, to time something with {@link #snapshotBuilt}. */
    public long monotonicNanos() {
        return registry.config().clock().monotonicTime();
    }

    /**
     * One identity's served config was recomputed.
     *
     * @param changed whether it differed from what was served, so a new snapshot version was put in the cache
     * @param startNanos {@link #monotonicNanos()} when the computation began
     */
    public void snapshotBuilt(boolean changed, long startNanos) {
        long elapsed = monotonicNanos() - startNanos;
        String outcome = changed ? "new_version" : "unchanged";
        Counter.builder(SNAPSHOT_BUILDS)
                .description("Recomputations of an identity's xDS snapshot, by whether it changed")
                .tag("outcome", outcome)
                .register(registry)
                .increment();
        Timer.builder(SNAPSHOT_BUILD_DURATION)
                .description("Time to compute one identity's model and xDS resources and put them in the cache")
                .tag("outcome", outcome)
                .serviceLevelObjectives(BUILD_BUCKETS)
                .register(registry)
                .record(elapsed, TimeUnit.NANOSECONDS);
    }

    /**
     * The Envoy resources of a model were translated (for an identity, or prepared for the identities no policy
     * names), or an identity was given those already built for an equal model (equal but for the identity).
     *
     * @param translated whether they were translated now; false when they were shared
     */
    public void resourcesBuilt(boolean translated) {
        Counter.builder(RESOURCE_BUILDS)
                .description("Envoy resources of a model translated, or shared with an identity whose model is equal "
                        + "but for the identity")
                .tag("outcome", translated ? "translated" : "shared")
                .register(registry)
                .increment();
    }

    /** A response of {@code type} (short xDS type name, e.g. Listener) was sent to a sidecar. */
    public void responseSent(String type) {
        Counter.builder(XDS_RESPONSES)
                .description("xDS responses sent to sidecars, by type")
                .tag("type", type)
                .register(registry)
                .increment();
    }

    /** A sidecar ACKed the response of {@code type} it was sent {@code nanos} ago. */
    public void acked(String type, long nanos) {
        Timer.builder(XDS_ACK_LATENCY)
                .description("Time from sending an xDS response to the sidecar's ACK of that nonce, by type")
                .tag("type", type)
                .serviceLevelObjectives(ACK_BUCKETS)
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A sidecar rejected (NACKed) a response of {@code type}. */
    public void nacked(String type) {
        nackCounter(type).increment();
    }

    private Counter nackCounter(String type) {
        return Counter.builder(XDS_NACKS)
                .description("xDS responses rejected (NACKed) by a sidecar, by type")
                .tag("type", type)
                .register(registry);
    }

    /** The problems now current; replaces the previous counts. */
    public void problems(List<PolicyProblem> policy, int source, int quarantinedPolicies, int lockdowns) {
        policyProblems.values().forEach(m -> m.values().forEach(c -> c.set(0)));
        for (PolicyProblem problem : policy) {
            policyProblems.get(problem.cause()).get(problem.severity()).incrementAndGet();
        }
        sourceProblems.set(source);
        quarantined.set(quarantinedPolicies);
        lockedDown.set(lockdowns);
    }

    /** What a config source counts its events with; {@code source} is its label (directory, kubernetes). */
    public SourceEvents sourceEvents(String source) {
        return event -> Counter.builder(CONFIG_SOURCE_EVENTS)
                .description("Events of the config source, by source and kind")
                .tag("source", source)
                .tag("event", event.label())
                .register(registry)
                .increment();
    }

    /** Every event kind of {@code source} at 0, so a rate over it exists before the first event. */
    public SourceEvents sourceEvents(String source, List<SourceEvent> kinds) {
        kinds.forEach(kind -> Counter.builder(CONFIG_SOURCE_EVENTS)
                .description("Events of the config source, by source and kind")
                .tag("source", source)
                .tag("event", kind.label())
                .register(registry));
        return sourceEvents(source);
    }

    /** The config source delivered an update, now: before it is validated or served. */
    public void sourceUpdateReceived() {
        lastSourceUpdateMillis.set(registry.config().clock().wallTime());
    }

    /** A decision a sidecar reported over the access log service. */
    public void decision(EgressDecision decision) {
        Counter.builder(EGRESS_DECISIONS)
                .description("Egress decisions reported by sidecars, by proven identity, deciding policy, decision and "
                        + "protocol")
                .tag("identity", decision.identity())
                .tag("policy", decision.policy() == null ? NO_POLICY : decision.policy())
                .tag("decision", decision.decision())
                .tag("protocol", decision.protocol())
                .register(registry)
                .increment();
    }

    /** Something wrong with what a sidecar sent over the access log service; {@code problem} is a fixed word. */
    public void decisionLogProblem(String problem) {
        Counter.builder(DECISION_LOG_PROBLEMS)
                .description("Access log streams refused and entries ignored or flagged, by problem")
                .tag("problem", problem)
                .register(registry)
                .increment();
    }

    private static String label(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
