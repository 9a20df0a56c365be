package io.portcullis.kubernetes.status;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.input.ResourceKey;
import io.portcullis.xds.PolicyEvaluation;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the {@code status} subresource of every Egress and HTTPRouteGroup to what {@link PolicyStatuses}
 * says about the latest {@link PolicyEvaluation}, and only where the API server's status differs, so
 * re-evaluating the same input writes nothing (the objects' resourceVersions stay the same).
 *
 * <p>Writes only while {@link #lead() leading}: of several control-plane replicas, only the Lease holder
 * writes, so replicas never fight over a status. Evaluations arriving while a pass runs are coalesced
 * into one more pass with the newest. A failed pass (API server away) is retried.
 */
public final class PolicyStatusWriter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyStatusWriter.class);
    private static final Duration RETRY = Duration.ofSeconds(2);

    private record StatusKind(String apiVersion, String kind) {}

    private static final List<StatusKind> KINDS = List.of(
            new StatusKind(Egress.GROUP + "/" + Egress.VERSION, Egress.KIND),
            new StatusKind(HTTPRouteGroup.GROUP + "/" + HTTPRouteGroup.VERSION, HTTPRouteGroup.KIND));

    private final KubernetesClient client;
    private final String fieldManager;
    private final Clock clock;
    private final ScheduledExecutorService worker;
    private final AtomicReference<PolicyEvaluation> latest = new AtomicReference<>();
    private final AtomicBoolean passPending = new AtomicBoolean();
    private final AtomicInteger writes = new AtomicInteger();
    private final AtomicInteger passes = new AtomicInteger();
    private final EvaluatedGeneration generations = new EvaluatedGeneration();
    private volatile boolean leading;

    /**
     * @param fieldManager the name the API server records in managedFields for these writes
     */
    public PolicyStatusWriter(KubernetesClient client, String fieldManager, Clock clock) {
        this.client = client;
        this.fieldManager = fieldManager;
        this.clock = clock;
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "policy-status-writer");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** The control plane enforces this now (called with its lock held: only hands off). */
    public void offer(PolicyEvaluation evaluation) {
        latest.set(evaluation);
        requestPass(Duration.ZERO);
    }

    /** This replica holds the Lease: bring every status up to date, and keep it so. */
    public void lead() {
        leading = true;
        LOG.info("leading: writing the status of Egresses and HTTPRouteGroups");
        requestPass(Duration.ZERO);
    }

    /** Another replica holds the Lease (or nobody): write nothing more. */
    public void follow() {
        if (leading) {
            LOG.info("no longer leading: another replica writes status");
        }
        leading = false;
    }

    public boolean leading() {
        return leading;
    }

    /** How many status patches this writer has sent (tests compare replicas by it). */
    public int writes() {
        return writes.get();
    }

    /** How many passes over all statuses completed (each compares every status, writing only differences). */
    public int passes() {
        return passes.get();
    }

    @Override
    public void close() {
        leading = false;
        worker.shutdownNow();
    }

    // The pass's future carries nothing: pass() catches and logs its own failures and schedules the retry.
    @SuppressWarnings("FutureReturnValueIgnored")
    private void requestPass(Duration delay) {
        if (passPending.compareAndSet(false, true)) {
            try {
                worker.schedule(this::pass, delay.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                passPending.set(false);
            }
        }
    }

    private void pass() {
        passPending.set(false);
        PolicyEvaluation evaluation = latest.get();
        if (!leading || evaluation == null) {
            return;
        }
        try {
            write(PolicyStatuses.of(evaluation));
            passes.incrementAndGet();
        } catch (KubernetesClientException e) {
            LOG.warn("writing status failed, retrying in {}: {}", RETRY, e.getMessage());
            requestPass(RETRY);
        } catch (RuntimeException e) {
            LOG.error("writing status failed, retrying in {}", RETRY, e);
            requestPass(RETRY);
        }
    }

    private void write(SortedMap<ResourceKey, PolicyStatus> desired) {
        for (StatusKind kind : KINDS) {
            List<GenericKubernetesResource> objects = client.genericKubernetesResources(kind.apiVersion(), kind.kind())
                    .inAnyNamespace()
                    .list()
                    .getItems();
            for (GenericKubernetesResource object : objects) {
                ResourceKey key = new ResourceKey(
                        kind.kind(),
                        object.getMetadata().getNamespace(),
                        object.getMetadata().getName());
                PolicyStatus evaluated = desired.get(key);
                if (evaluated == null
                        || (evaluated.uid() != null
                                && !evaluated.uid().equals(object.getMetadata().getUid()))) {
                    continue; // not evaluated yet (or a new object under an old name): its turn comes
                }
                Optional<Long> generation = generations.of(evaluated, object);
                if (generation.isEmpty()) {
                    continue; // changed since it was evaluated: the evaluation of the change brings its status
                }
                PolicyStatus wanted = evaluated.withGeneration(generation.get());
                Map<String, Object> current = status(object);
                if (wanted.isStatedBy(current)) {
                    continue;
                }
                if (!leading) {
                    return;
                }
                patch(kind, key, wanted.toStatus(current, clock.instant()));
                LOG.info(
                        "{}: Accepted={} reason {}",
                        key,
                        wanted.conditionStatus(),
                        wanted.reason().reason());
            }
        }
    }

    private void patch(StatusKind kind, ResourceKey key, Map<String, Object> status) {
        PatchContext context = PatchContext.of(PatchType.JSON_MERGE);
        context.setFieldManager(fieldManager);
        String body = client.getKubernetesSerialization().asJson(Map.of("status", status));
        try {
            writes.incrementAndGet();
            client.genericKubernetesResources(kind.apiVersion(), kind.kind())
                    .inNamespace(key.namespace())
                    .withName(key.name())
                    .subresource("status")
                    .patch(context, body);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 422) {
                // Refused by the CRD's status schema: a bug to report, but no reason to stop the other writes.
                LOG.error("{}: the API server refused its status {}: {}", key, body, e.getMessage());
                return;
            }
            if (e.getCode() == 404) {
                // Deleted since the list; or the CRD has no status subresource (then every write fails).
                LOG.warn(
                        "{}: status not written (404: deleted meanwhile, or its CRD lacks the status subresource;"
                                + " apply deploy/crds): {}",
                        key,
                        e.getMessage());
                return;
            }
            throw e;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> status(GenericKubernetesResource object) {
        return object.getAdditionalProperties().get("status") instanceof Map<?, ?> status
                ? (Map<String, Object>) status
                : null;
    }
}
