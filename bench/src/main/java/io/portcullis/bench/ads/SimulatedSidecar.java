package io.portcullis.bench.ads;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.runtime.v3.RuntimeDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One simulated Envoy sidecar: an ADS state-of-the-world stream that asks and ACKs as Envoy does. It opens
 * with a wildcard CDS request; once clusters arrive it asks for listeners (wildcard LDS); it reads the route
 * names the listeners' HTTP connection managers reference and subscribes to exactly those (RDS), again on
 * every listener change that changes them. Every response is ACKed at once with its version and nonce.
 * When the stream fails it re-opens after a jittered back-off of at most 1 s, resending the versions it
 * holds (Envoy resumes that way, so a control plane serving the same versions need not answer).
 *
 * <p>Like Envoy under {@code portcullis bootstrap}, it first opens the RTDS stream of the bootstrap's runtime layer
 * ({@link SidecarBootstrap#RTDS_LAYER}, the MeshConfig's decision log sample rate) and starts ADS only once that layer
 * arrived (Envoy starts CDS after its RTDS layers); every runtime response is ACKed at once too, and a failed RTDS
 * stream re-opens on its own like ADS.
 *
 * <p>It keeps only what the benchmark needs: when the last response arrived, how many arrived, and whether
 * it holds a complete config (clusters, listeners, and every referenced route table). Thread-safe: gRPC
 * calls back on its executor; the benchmark reads from another thread.
 */
final class SimulatedSidecar {

    static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
    static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    static final String RUNTIME = "type.googleapis.com/envoy.service.runtime.v3.Runtime";

    private final SidecarNodeId id;
    private final Node node;
    private final ManagedChannel channel;
    private final ScheduledExecutorService retries;
    private final BenchClock clock;
    private final ResponseNames responseNames;

    private volatile boolean running;
    /** Bumped by every start: a re-open scheduled by an earlier life of this sidecar (before a stop) is dropped. */
    private int lives;

    private ClientCallStreamObserver<DiscoveryRequest> requests;
    private ClientCallStreamObserver<DiscoveryRequest> runtimeRequests;
    // The runtime layer held: its version (resent on reconnect), and whether the current RTDS stream served it.
    private String runtimeVersion = "";
    private boolean runtimeServedOnThisStream;
    private volatile String heldRuntimeVersion = "";
    // What this sidecar holds, per type: the last accepted version (resent on reconnect, like Envoy).
    private String clusterVersion = "";
    private String listenerVersion = "";
    private String routeVersion = "";
    private String routeNonce = "";
    private Set<String> routeNames = Set.of();
    private Set<String> routesHeld = Set.of();
    private boolean clustersHeld;
    private boolean listenersHeld;
    // Since the current stream opened: a resumed stream is "configured" only once this stream served it.
    private boolean servedOnThisStream;
    // Whether this life opened ADS (on its first runtime layer); from then on ADS re-opens on its own.
    private boolean adsStarted;

    private volatile long lastResponseNanos;
    private volatile long configuredNanos;
    private volatile long lastAckNanos;
    private final AtomicInteger responses = new AtomicInteger();
    private final AtomicInteger failures = new AtomicInteger();

    SimulatedSidecar(
            SidecarNodeId id,
            ManagedChannel channel,
            ScheduledExecutorService retries,
            BenchClock clock,
            ResponseNames names) {
        this.id = id;
        // As Envoy under `portcullis bootstrap` announces itself: the server refuses a node without identity metadata.
        this.node = SidecarBootstrap.node(id);
        this.channel = channel;
        this.retries = retries;
        this.clock = clock;
        this.responseNames = names;
    }

    SidecarNodeId id() {
        return id;
    }

    /** Opens the stream (and keeps re-opening it until {@link #stop}). */
    synchronized void start() {
        running = true;
        lives++;
        openRuntime(lives);
    }

    /** Closes the stream and forgets the config, as a sidecar that goes away. */
    synchronized void stop() {
        running = false;
        if (requests != null) {
            requests.cancel("benchmark: sidecar stopped", null);
            requests = null;
        }
        if (runtimeRequests != null) {
            runtimeRequests.cancel("benchmark: sidecar stopped", null);
            runtimeRequests = null;
        }
        runtimeVersion = "";
        heldRuntimeVersion = "";
        runtimeServedOnThisStream = false;
        adsStarted = false;
        clusterVersion = "";
        listenerVersion = "";
        routeVersion = "";
        routeNonce = "";
        routeNames = Set.of();
        routesHeld = Set.of();
        clustersHeld = false;
        listenersHeld = false;
        configuredNanos = 0;
    }

    long lastResponseNanos() {
        return lastResponseNanos;
    }

    /** When the ACK of the last response was handed to the stream (Envoy ACKs once it applied a config). */
    long lastAckNanos() {
        return lastAckNanos;
    }

    int responses() {
        return responses.get();
    }

    int failures() {
        return failures.get();
    }

    /** The version of the runtime layer it holds (the server's {@code sample-<percent>}); empty before the first. */
    String runtimeVersion() {
        return heldRuntimeVersion;
    }

    /** When this stream last became fully configured, in {@link BenchClock} nanos; 0 when it is not. */
    long configuredNanos() {
        return configuredNanos;
    }

    private synchronized void openRuntime(int life) {
        if (!running || life != lives) {
            return;
        }
        if (runtimeRequests != null) {
            runtimeRequests.cancel("benchmark: stream replaced", null);
            runtimeRequests = null;
        }
        runtimeServedOnThisStream = false;
        configuredNanos = 0;
        channel.resetConnectBackoff();
        RuntimeResponses responses = new RuntimeResponses();
        runtimeRequests = (ClientCallStreamObserver<DiscoveryRequest>)
                RuntimeDiscoveryServiceGrpc.newStub(channel).streamRuntime(responses);
        responses.stream = runtimeRequests;
        sendRuntime(request(RUNTIME, runtimeVersion, "", List.of(SidecarBootstrap.RTDS_LAYER)));
    }

    /** The responses of one RTDS stream; the first runtime layer of a life starts ADS, as in Envoy. */
    private final class RuntimeResponses implements StreamObserver<DiscoveryResponse> {

        private ClientCallStreamObserver<DiscoveryRequest> stream;

        @Override
        public void onNext(DiscoveryResponse response) {
            long now = clock.nanos();
            synchronized (SimulatedSidecar.this) {
                if (runtimeRequests != stream) {
                    return;
                }
                runtimeServedOnThisStream = true;
                runtimeVersion = response.getVersionInfo();
                heldRuntimeVersion = runtimeVersion;
                sendRuntime(request(
                        RUNTIME, response.getVersionInfo(), response.getNonce(), List.of(SidecarBootstrap.RTDS_LAYER)));
                lastResponseNanos = now;
                lastAckNanos = clock.nanos();
                responses.incrementAndGet();
                if (!adsStarted) {
                    adsStarted = true;
                    open(lives);
                }
                maybeConfigured(now);
            }
        }

        @Override
        public void onError(Throwable error) {
            reopenLater();
        }

        @Override
        public void onCompleted() {
            reopenLater();
        }

        private void reopenLater() {
            int life;
            synchronized (SimulatedSidecar.this) {
                if ((stream != null && runtimeRequests != stream) || !running) {
                    return;
                }
                runtimeRequests = null;
                failures.incrementAndGet();
                configuredNanos = 0;
                life = lives;
            }
            var unused = retries.schedule(
                    () -> openRuntime(life), ThreadLocalRandom.current().nextLong(250, 1000), TimeUnit.MILLISECONDS);
        }
    }

    private void sendRuntime(DiscoveryRequest request) {
        if (runtimeRequests != null) {
            runtimeRequests.onNext(request);
        }
    }

    /** Configured: clusters, listeners, every referenced route table, and the runtime layer, each ACKed. */
    private void maybeConfigured(long now) {
        if (configuredNanos == 0
                && servedOnThisStream
                && runtimeServedOnThisStream
                && clustersHeld
                && listenersHeld
                && routesHeld.containsAll(routeNames)) {
            configuredNanos = now;
        }
    }

    private synchronized void open(int life) {
        if (!running || life != lives) {
            return;
        }
        if (requests != null) {
            // Two re-opens can be scheduled for one sidecar (a call that fails inside the stub reports it on this
            // thread, before open() recorded it): as Envoy, a sidecar has one ADS stream, so the older one goes.
            requests.cancel("benchmark: stream replaced", null);
            requests = null;
        }
        servedOnThisStream = false;
        configuredNanos = 0;
        // A channel in its connect back-off would fail the call at once; Envoy's own back-off is at most 1 s.
        channel.resetConnectBackoff();
        Responses responses = new Responses();
        // The stub returns a ClientCallStreamObserver; it is what cancels the call when the sidecar stops.
        requests = (ClientCallStreamObserver<DiscoveryRequest>)
                AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(responses);
        responses.stream = requests;
        // Envoy starts with clusters; listeners once the clusters are in (resumed: both at once).
        send(request(CLUSTER, clusterVersion, "", List.of()));
        if (listenersHeld) {
            send(request(LISTENER, listenerVersion, "", List.of()));
            if (!routeNames.isEmpty()) {
                send(request(ROUTE, routeVersion, "", routeNames));
            }
        }
    }

    /** The responses of one stream; those of a stream that was replaced are ignored. */
    private final class Responses implements StreamObserver<DiscoveryResponse> {

        // Set under the sidecar's lock right after the call starts, before any response can be handled.
        private ClientCallStreamObserver<DiscoveryRequest> stream;

        @Override
        public void onNext(DiscoveryResponse response) {
            long now = clock.nanos();
            synchronized (SimulatedSidecar.this) {
                if (requests != stream) {
                    return;
                }
                servedOnThisStream = true;
                switch (response.getTypeUrl()) {
                    case CLUSTER -> {
                        boolean first = !clustersHeld;
                        clustersHeld = true;
                        clusterVersion = response.getVersionInfo();
                        send(ack(response, List.of()));
                        if (first && !listenersHeld) {
                            send(request(LISTENER, listenerVersion, "", List.of()));
                        }
                    }
                    case LISTENER -> {
                        listenersHeld = true;
                        listenerVersion = response.getVersionInfo();
                        Set<String> names = responseNames.routeNames(response);
                        send(ack(response, List.of()));
                        if (!names.equals(routeNames)) {
                            routeNames = names;
                            routesHeld = Set.of();
                            send(request(ROUTE, routeVersion, routeNonce, names));
                        }
                    }
                    case ROUTE -> {
                        routeVersion = response.getVersionInfo();
                        routeNonce = response.getNonce();
                        routesHeld = responseNames.routeConfigurationNames(response);
                        send(ack(response, routeNames));
                    }
                    default -> send(ack(response, List.of()));
                }
                lastResponseNanos = now;
                lastAckNanos = clock.nanos();
                responses.incrementAndGet();
                maybeConfigured(now);
            }
        }

        @Override
        public void onError(Throwable error) {
            reopenLater();
        }

        @Override
        public void onCompleted() {
            reopenLater();
        }

        private void reopenLater() {
            synchronized (SimulatedSidecar.this) {
                // stream is null only when the call failed inside the stub, before open() could record it.
                if ((stream != null && requests != stream) || !running) {
                    return;
                }
                requests = null;
                failures.incrementAndGet();
                configuredNanos = 0;
            }
            int life;
            synchronized (SimulatedSidecar.this) {
                life = lives;
            }
            var unused = retries.schedule(
                    () -> open(life), ThreadLocalRandom.current().nextLong(250, 1000), TimeUnit.MILLISECONDS);
        }
    }

    private void send(DiscoveryRequest request) {
        if (requests != null) {
            requests.onNext(request);
        }
    }

    private DiscoveryRequest request(String type, String version, String nonce, Iterable<String> names) {
        return DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(type)
                .setVersionInfo(version)
                .setResponseNonce(nonce)
                .addAllResourceNames(names)
                .build();
    }

    private DiscoveryRequest ack(DiscoveryResponse response, Iterable<String> names) {
        return request(response.getTypeUrl(), response.getVersionInfo(), response.getNonce(), names);
    }
}
