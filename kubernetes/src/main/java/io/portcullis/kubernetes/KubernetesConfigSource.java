package io.portcullis.kubernetes;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.KnownKind;
import io.portcullis.crds.MeshConfig;
import io.portcullis.crds.NamespaceEgressModes;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.source.ConfigSource;
import io.portcullis.source.SourceEvent;
import io.portcullis.source.SourceEvents;
import io.portcullis.source.SourceUpdate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config source on a Kubernetes API server: fabric8 informers on Egress, HTTPRouteGroup, the
 * mesh-wide MeshConfig ({@code fsm-system/fsm-mesh-config}) and the enrolled Namespaces, giving the
 * same {@link ResourceSnapshot} the directory source gives for the same objects.
 *
 * <p>Like FSM, it reads Egress and HTTPRouteGroup only in namespaces enrolled in the mesh (label
 * {@value #ENROLMENT_LABEL}={@value #ENROLMENT_VALUE}); one elsewhere is left out and reported. The
 * enrolled Namespaces' annotation {@code portcullis.io/egress-mode} gives the snapshot's audited
 * namespaces ({@link NamespaceEgressModes}), so annotating a namespace switches its sidecars live.
 *
 * <p>The rules it keeps:
 * <ul>
 * <li><b>Nothing before every informer has synced.</b> {@link #start} returns once the first
 * snapshot, built from complete lists of all four kinds, has been applied; it never publishes a
 * partial or empty one, which would withdraw config the sidecars have accepted.</li>
 * <li><b>Coalesced.</b> A burst of events becomes one or two snapshots ({@link CoalescingPublisher}).</li>
 * <li><b>One bad object costs only itself.</b> Objects are read as untyped objects and converted one by
 * one ({@link ApiObjectReader}); one that does not convert is a problem naming it and its field.</li>
 * <li><b>Watches that break are resumed.</b> fabric8 relists after a 410 Gone (a compacted
 * resourceVersion) and reconnects after an API-server restart; every error is retried, never the end
 * of an informer. Each snapshot is built from the stores, not from events, so a relist can neither
 * lose nor duplicate an object.</li>
 * </ul>
 */
public final class KubernetesConfigSource implements ConfigSource {

    /** FSM's label on a namespace whose workloads are in the mesh (owned by {@link Enrolment}). */
    static final String ENROLMENT_LABEL = Enrolment.MONITORED_BY_LABEL;
    /** The mesh this control plane serves, the value of {@link #ENROLMENT_LABEL}. */
    static final String ENROLMENT_VALUE = Enrolment.DEFAULT_MESH_NAME;

    /** How long {@link #start} waits for the first complete lists by default. */
    public static final Duration DEFAULT_SYNC_TIMEOUT = Duration.ofSeconds(60);

    private static final Logger LOG = LoggerFactory.getLogger(KubernetesConfigSource.class);

    private final KubernetesClient client;

    private final String meshNamespace;
    private final Duration syncTimeout;
    private final SourceEvents events;
    private final ApiObjectReader reader = new ApiObjectReader();
    /** The conversion of each object at its resourceVersion, so a rebuild converts only what changed. */
    private final Map<String, Converted> converted = new HashMap<>(); // publisher thread only

    private final Map<String, Throwable> lastErrors = new ConcurrentHashMap<>();
    private final List<Watched<?>> watched = new ArrayList<>();
    private SharedIndexInformer<GenericKubernetesResource> egresses;
    private SharedIndexInformer<GenericKubernetesResource> routeGroups;
    private SharedIndexInformer<GenericKubernetesResource> meshConfigs;
    private SharedIndexInformer<Namespace> namespaces;
    private CoalescingPublisher publisher;

    private record Converted(String resourceVersion, ApiObjectReader.Read read) {}

    private record Watched<T extends HasMetadata>(String what, SharedIndexInformer<T> informer) {}

    /**
     * @param meshNamespace namespace of the mesh-wide MeshConfig {@value MeshConfig#DEFAULT_NAME} (fsm-system)
     */
    public KubernetesConfigSource(KubernetesClient client, String meshNamespace) {
        this(client, meshNamespace, DEFAULT_SYNC_TIMEOUT);
    }

    /**
     * @param client the API server to read; the caller owns it (it outlives this source, and may be
     *     shared with the status writer and the webhooks)
     */
    public KubernetesConfigSource(KubernetesClient client, String meshNamespace, Duration syncTimeout) {
        this(client, meshNamespace, syncTimeout, SourceEvents.NONE);
    }

    /**
     * @param events where informer events, watch errors and applied updates are counted (the control
     *     plane's metrics); only Portcullis types cross into the xDS server
     */
    public KubernetesConfigSource(
            KubernetesClient client, String meshNamespace, Duration syncTimeout, SourceEvents events) {
        this.client = client;
        this.meshNamespace = meshNamespace;
        this.syncTimeout = syncTimeout;
        this.events = events;
    }

    /**
     * Lists and watches everything, applies the first complete snapshot, then every change from a
     * publisher thread.
     *
     * @throws IllegalStateException if the lists are not complete within the sync timeout (CRDs not
     *     installed, no permission, API server unreachable), naming what is missing and the last error
     */
    @Override
    public void start(Consumer<SourceUpdate> listener) throws InterruptedException {
        publisher = new CoalescingPublisher(this::assemble, listener, events);
        egresses = watch(
                "egresses." + Egress.GROUP,
                client.genericKubernetesResources(context(Egress.class))
                        .inAnyNamespace()
                        .runnableInformer(0));
        routeGroups = watch(
                "httproutegroups." + HTTPRouteGroup.GROUP,
                client.genericKubernetesResources(context(HTTPRouteGroup.class))
                        .inAnyNamespace()
                        .runnableInformer(0));
        meshConfigs = watch(
                "meshconfig " + meshNamespace + "/" + MeshConfig.DEFAULT_NAME,
                client.genericKubernetesResources(context(MeshConfig.class))
                        .inNamespace(meshNamespace)
                        .withName(MeshConfig.DEFAULT_NAME)
                        .runnableInformer(0));
        namespaces = watch(
                "namespaces labelled " + ENROLMENT_LABEL + "=" + ENROLMENT_VALUE,
                client.namespaces().withLabel(ENROLMENT_LABEL, ENROLMENT_VALUE).runnableInformer(0));
        CompletableFuture<?>[] synced = watched.stream()
                .map(w -> w.informer().start().toCompletableFuture())
                .toArray(CompletableFuture<?>[]::new);
        try {
            CompletableFuture.allOf(synced).get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            close();
            throw new IllegalStateException(notSynced(), e);
        }
        LOG.info(
                "listed {} from the API server",
                watched.stream().map(Watched::what).toList());
        publisher.startAndPublishFirst(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private <T extends HasMetadata> SharedIndexInformer<T> watch(String what, SharedIndexInformer<T> informer) {
        informer.exceptionHandler((started, error) -> {
            // Retry everything, always: a dead informer would keep serving a stale config silently.
            // fabric8 backs off exponentially between attempts; start() reports the last error if the
            // first list never completes.
            lastErrors.put(what, error);
            events.happened(SourceEvent.WATCH_ERROR);
            LOG.warn("watching {} failed ({}); retrying", what, String.valueOf(error));
            return true;
        });
        informer.addEventHandler(new ResourceEventHandler<T>() {
            @Override
            public void onAdd(T object) {
                events.happened(SourceEvent.OBJECT_ADDED);
                publisher.markChanged();
            }

            @Override
            public void onUpdate(T before, T after) {
                events.happened(SourceEvent.OBJECT_UPDATED);
                publisher.markChanged();
            }

            @Override
            public void onDelete(T object, boolean finalStateUnknown) {
                events.happened(SourceEvent.OBJECT_DELETED);
                publisher.markChanged();
            }
        });
        watched.add(new Watched<>(what, informer));
        return informer;
    }

    private String notSynced() {
        List<String> missing = new ArrayList<>();
        for (Watched<?> w : watched) {
            if (!w.informer().hasSynced()) {
                Throwable error = lastErrors.get(w.what());
                missing.add(w.what() + (error == null ? "" : " (last error: " + error.getMessage() + ")"));
            }
        }
        return "the API server did not list " + String.join(", ", missing) + " within " + syncTimeout.toSeconds()
                + " s: check that the CRDs are installed (kubectl apply -f deploy/crds) and that this"
                + " ServiceAccount may list and watch them";
    }

    private static ResourceDefinitionContext context(Class<? extends HasMetadata> type) {
        KnownKind kind = KnownKind.byType(type).orElseThrow();
        return new ResourceDefinitionContext.Builder()
                .withGroup(kind.group())
                .withVersion(kind.version())
                .withPlural(kind.plural())
                .withKind(kind.kind())
                .withNamespaced(true)
                .build();
    }

    /** The update the stores hold now. Deterministic: the same objects give an equal update. */
    private SourceUpdate assemble() {
        List<Namespace> enrolledNamespaces = namespaces.getStore().list();
        Set<String> enrolled = enrolledNamespaces.stream()
                .map(n -> n.getMetadata().getName())
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> present = new java.util.HashSet<>();
        TreeSet<String> problems = new TreeSet<>();
        NamespaceEgressModes modes = NamespaceEgressModes.of(enrolledNamespaces);
        problems.addAll(modes.problems());
        List<Egress> egressList = read(egresses, Egress.class, enrolled, present, problems);
        List<HTTPRouteGroup> groupList = read(routeGroups, HTTPRouteGroup.class, enrolled, present, problems);
        List<MeshConfig> meshes = read(meshConfigs, MeshConfig.class, null, present, problems);
        converted.keySet().retainAll(present);
        MeshConfig mesh = meshes.isEmpty() ? null : meshes.get(0);
        if (mesh == null && meshConfigs.getStore().list().isEmpty()) {
            problems.add(MeshConfig.KIND + " " + meshNamespace + "/" + MeshConfig.DEFAULT_NAME
                    + " does not exist: the secure defaults apply (policies enforced, no passthrough);"
                    + " create it (deploy/ installs it) so that 'kubectl patch meshconfig' works");
        }
        return new SourceUpdate(
                ResourceSnapshot.of(mesh, egressList, groupList).withAuditedNamespaces(modes.audited()),
                List.copyOf(problems));
    }

    /**
     * @param enrolled the namespaces whose objects count; null: all (the MeshConfig's namespace is
     *     the control plane's, never enrolled)
     */
    private <T extends HasMetadata> List<T> read(
            SharedIndexInformer<GenericKubernetesResource> informer,
            Class<T> type,
            Set<String> enrolled,
            Set<String> present,
            Set<String> problems) {
        List<T> resources = new ArrayList<>();
        // Each object's sort key is built once, not twice per comparison: with 10,000 Egresses the comparisons
        // cost more than the rest of a rebuild, which converts only objects whose resourceVersion changed.
        record Keyed(String key, GenericKubernetesResource object) {}
        List<GenericKubernetesResource> objects = informer.getStore().list().stream()
                .map(o -> new Keyed(
                        o.getMetadata().getNamespace() + "/" + o.getMetadata().getName(), o))
                .sorted(Comparator.comparing(Keyed::key))
                .map(Keyed::object)
                .toList();
        for (GenericKubernetesResource object : objects) {
            String namespace = object.getMetadata().getNamespace();
            String key = object.getKind() + "/" + namespace + "/"
                    + object.getMetadata().getName();
            present.add(key);
            if (enrolled != null && !enrolled.contains(namespace)) {
                problems.add(new ResourceKey(
                                object.getKind(),
                                namespace,
                                object.getMetadata().getName())
                        + " is ignored: namespace " + namespace + " is not in the mesh; enrol it with"
                        + " 'portcullis namespace add " + namespace
                        + "' (it sets the label " + ENROLMENT_LABEL + "=" + ENROLMENT_VALUE + ")");
                continue;
            }
            String version = object.getMetadata().getResourceVersion();
            Converted conversion = converted.get(key);
            if (conversion == null || version == null || !version.equals(conversion.resourceVersion())) {
                conversion = new Converted(version, reader.read(object));
                converted.put(key, conversion);
            }
            problems.addAll(conversion.read().problems());
            conversion.read().resource().map(type::cast).ifPresent(resources::add);
        }
        return resources;
    }

    /** How many objects of each kind the informers hold, for logs and tests. */
    Map<String, Integer> sizes() {
        Map<String, Integer> sizes = new HashMap<>();
        watched.forEach(w -> sizes.put(w.what(), w.informer().getStore().list().size()));
        return sizes;
    }

    @Override
    public void close() {
        if (publisher != null) {
            publisher.close();
        }
        watched.forEach(w -> w.informer().stop());
    }
}
