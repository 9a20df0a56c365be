package io.portcullis.xds;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.runtime.v3.RuntimeDiscoveryServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.identity.PeerAuthentication;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.metrics.ControlPlaneMetrics;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RTDS ({@code envoy.service.runtime.v3.RuntimeDiscoveryService/StreamRuntime}): serves every sidecar the runtime
 * layer {@link SidecarBootstrap#RTDS_LAYER}, the MeshConfig's values that change at run time without a listener
 * ({@link DecisionSamplingLayer}). Its own service because java-control-plane's ADS knows no runtime type; it runs
 * on the xDS server's port behind the same mutual TLS, and every request passes the same identity proof as ADS
 * ({@link SidecarIdentity#authenticate}: certificate, node id, node metadata), or the stream is closed.
 *
 * <p>State of the world, as Envoy expects: each response carries the whole layer, a version and a nonce; a request
 * whose nonce is the last one sent ACKs it (same version) or NACKs it (error detail: logged with the sidecar and
 * Envoy's message, counted). A new rate is pushed to every open stream by {@link #publish}, from the prepared
 * response; gRPC threads only stamp nonces and never wait on a translation.
 */
public final class RuntimeDiscovery extends RuntimeDiscoveryServiceGrpc.RuntimeDiscoveryServiceImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(RuntimeDiscovery.class);

    /** The type's short name, as the xDS metrics label types. */
    static final String TYPE = "Runtime";

    private final ControlPlaneMetrics metrics;
    private final Set<RuntimeStream> streams = ConcurrentHashMap.newKeySet();
    private final AtomicLong nonces = new AtomicLong();
    private volatile DecisionSamplingLayer current;

    /** @param allowedPercent what is served until the first {@link #publish} */
    RuntimeDiscovery(ControlPlaneMetrics metrics, int allowedPercent) {
        this.metrics = metrics;
        this.current = DecisionSamplingLayer.of(allowedPercent);
    }

    /**
     * Serves {@code allowedPercent} from now on and sends it to every open stream if it changed. Called by the config
     * coordinator; sending only queues the prepared response on each stream.
     */
    void publish(int allowedPercent) {
        if (current.allowedPercent() == allowedPercent) {
            return;
        }
        DecisionSamplingLayer layer = DecisionSamplingLayer.of(allowedPercent);
        current = layer;
        LOG.info(
                "decision log sample rate of allowed traffic now {} %: sending runtime layer {} version {} to {} "
                        + "sidecars",
                allowedPercent, SidecarBootstrap.RTDS_LAYER, layer.version(), streams.size());
        streams.forEach(stream -> stream.send(layer));
    }

    /** The percentage served now. */
    public int allowedPercent() {
        return current.allowedPercent();
    }

    /** The version of the layer each open stream's sidecar (by node id) last ACKed; for tests and the bench. */
    public Map<String, String> ackedVersions() {
        Map<String, String> acked = new TreeMap<>();
        streams.forEach(stream -> stream.acked().ifPresent(a -> acked.put(a.nodeId(), a.version())));
        return acked;
    }

    @Override
    public StreamObserver<DiscoveryRequest> streamRuntime(StreamObserver<DiscoveryResponse> responses) {
        RuntimeStream stream = new RuntimeStream((ServerCallStreamObserver<DiscoveryResponse>) responses);
        stream.responses.setOnCancelHandler(stream::closed);
        return stream;
    }

    /** One sidecar's RTDS stream. Its state is guarded by its monitor: gRPC callbacks and publish both send. */
    private final class RuntimeStream implements StreamObserver<DiscoveryRequest> {

        private record Acked(String nodeId, String version) {}

        private final ServerCallStreamObserver<DiscoveryResponse> responses;
        private String nodeId;
        private ServiceAccountRef identity;
        private String sentVersion;
        private String sentNonce;
        private long sentAtNanos;
        private String ackedVersion;
        private boolean closed;

        RuntimeStream(ServerCallStreamObserver<DiscoveryResponse> responses) {
            this.responses = responses;
        }

        @Override
        public synchronized void onNext(DiscoveryRequest request) {
            if (closed) {
                return;
            }
            // Every request, not only the first, as on ADS: a stream must not switch to another identity.
            PeerAuthentication peer = PeerAuthentication.current();
            try {
                ServiceAccountRef claimed = SidecarIdentity.authenticate(request.getNode(), peer);
                if (identity != null
                        && !(identity.equals(claimed)
                                && nodeId.equals(request.getNode().getId()))) {
                    throw new SidecarIdentity.Refused(
                            Status.Code.PERMISSION_DENIED,
                            "node id changed on the RTDS stream from '" + nodeId + "' to '"
                                    + request.getNode().getId() + "' (" + peer.remoteAddress() + ")");
                }
                if (!request.getTypeUrl().isEmpty() && !request.getTypeUrl().equals(DecisionSamplingLayer.TYPE_URL)) {
                    throw new SidecarIdentity.Refused(
                            Status.Code.INVALID_ARGUMENT,
                            "node id '" + request.getNode().getId() + "' asked RTDS for type " + request.getTypeUrl()
                                    + "; this service serves only " + DecisionSamplingLayer.TYPE_URL);
                }
                if (!request.getResourceNamesList().equals(List.of(SidecarBootstrap.RTDS_LAYER))) {
                    throw new SidecarIdentity.Refused(
                            Status.Code.NOT_FOUND,
                            "node id '" + request.getNode().getId() + "' asked for runtime layers "
                                    + request.getResourceNamesList() + "; this control plane serves exactly ["
                                    + SidecarBootstrap.RTDS_LAYER + "]: set the bootstrap's rtds_layer name to it "
                                    + "(`portcullis bootstrap` does)");
                }
                identity = claimed;
                nodeId = request.getNode().getId();
            } catch (SidecarIdentity.Refused e) {
                LOG.warn("refusing RTDS stream: {}", e.getMessage());
                close();
                responses.onError(e.status().asRuntimeException());
                return;
            }
            if (sentNonce == null) {
                streams.add(this);
                send(current);
                return;
            }
            if (!sentNonce.equals(request.getResponseNonce())) {
                return; // answers an older response: the newest one is still to be answered
            }
            if (request.hasErrorDetail()) {
                metrics.nacked(TYPE);
                LOG.error(
                        "sidecar {} of {} REJECTED runtime layer {} version {}; it keeps its last accepted layer "
                                + "(or the listeners' default, refusals only); Envoy: {}",
                        nodeId,
                        identity,
                        SidecarBootstrap.RTDS_LAYER,
                        sentVersion,
                        request.getErrorDetail().getMessage());
                return;
            }
            if (request.getVersionInfo().equals(sentVersion)) {
                ackedVersion = sentVersion;
                metrics.acked(TYPE, metrics.monotonicNanos() - sentAtNanos);
            }
        }

        /** Sends {@code layer} unless it is what the sidecar was sent last. */
        synchronized void send(DecisionSamplingLayer layer) {
            if (closed || layer.version().equals(sentVersion)) {
                return;
            }
            sentVersion = layer.version();
            sentNonce = Long.toString(nonces.incrementAndGet());
            sentAtNanos = metrics.monotonicNanos();
            responses.onNext(layer.response().toBuilder().setNonce(sentNonce).build());
            metrics.responseSent(TYPE);
        }

        synchronized Optional<Acked> acked() {
            return ackedVersion == null ? Optional.empty() : Optional.of(new Acked(nodeId, ackedVersion));
        }

        @Override
        public synchronized void onError(Throwable t) {
            close();
        }

        @Override
        public synchronized void onCompleted() {
            close();
            responses.onCompleted();
        }

        /** The sidecar went away (cancelled the call). */
        void closed() {
            synchronized (this) {
                close();
            }
        }

        private void close() {
            closed = true;
            streams.remove(this);
        }
    }
}
