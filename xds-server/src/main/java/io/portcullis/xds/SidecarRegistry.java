package io.portcullis.xds;

import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.identity.PeerAuthentication;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.metrics.ControlPlaneMetrics;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tracks connected sidecars from the ADS stream callbacks: who they are, what they were sent, and what
 * they ACKed or NACKed, and tells the control plane about every ACK and NACK (a NACK makes the sidecar's
 * identity fail closed, see {@link FailClosed}). It counts into the control plane's metrics: connected
 * sidecars, responses, NACKs and the time from each response to its ACK, per xDS type.
 */
public final class SidecarRegistry implements DiscoveryServerCallbacks {

    private static final Logger LOG = LoggerFactory.getLogger(SidecarRegistry.class);

    private final Map<Long, SidecarStatus> streams = new ConcurrentHashMap<>();
    private final EgressControlPlane controlPlane;
    private final Clock clock;
    private final ControlPlaneMetrics metrics;
    private final PendingAcks pendingAcks = new PendingAcks();

    public SidecarRegistry(EgressControlPlane controlPlane, Clock clock) {
        this.controlPlane = controlPlane;
        this.clock = clock;
        this.metrics = controlPlane.metrics();
        metrics.connectedSidecars(streams::size, () -> (int) streams.values().stream()
                .map(SidecarStatus::identity)
                .distinct()
                .count());
    }

    @Override
    public void onV3StreamRequest(long streamId, DiscoveryRequest request) throws RequestException {
        SidecarStatus status = streams.get(streamId);
        // Every request, not only the first: the node is on every request and the cache groups by it,
        // so a stream that switched node ids mid-way would otherwise read another identity's config.
        PeerAuthentication peer = PeerAuthentication.current();
        ServiceAccountRef identity;
        try {
            identity = SidecarIdentity.authenticate(request.getNode(), peer);
            if (status != null
                    && (!identity.equals(status.identity())
                            || !request.getNode().getId().equals(status.nodeId()))) {
                throw new SidecarIdentity.Refused(
                        Status.Code.PERMISSION_DENIED,
                        "node id changed on stream " + streamId + " from '" + status.nodeId() + "' to '"
                                + request.getNode().getId() + "' (" + peer.remoteAddress() + ")");
            }
        } catch (SidecarIdentity.Refused e) {
            LOG.warn("refusing xDS stream {}: {}", streamId, e.getMessage());
            streams.remove(streamId);
            throw new RequestException(e.status());
        }
        Instant now = clock.instant();
        if (status == null) {
            String nodeId = request.getNode().getId();
            // authenticate() parsed this node id already; the pod name is only for operators to read.
            String pod = SidecarNodeId.parse(nodeId).podName();
            status = new SidecarStatus(streamId, nodeId, pod, identity, now, now, Map.of());
            streams.put(streamId, status);
            LOG.info(
                    "sidecar connected: node={} identity={} stream={} from {}",
                    status.nodeId(),
                    identity,
                    streamId,
                    peer.remoteAddress());
            controlPlane.ensureServed(identity);
        } else {
            streams.computeIfPresent(streamId, (id, s) -> s.seen(now));
        }
        String typeUrl = request.getTypeUrl();
        if (request.getResponseNonce().isEmpty()) {
            // A subscription, neither ACK nor NACK. On a stream that replaces a broken one (this control
            // plane restarted, or another one died) Envoy names the version it runs: when that is what its
            // identity is served, nothing is sent (versions are content digests) and no ACK follows, so
            // this is the only word that the sidecar is up to date.
            // An older version it names is what it runs too, until it ACKs what it is sent.
            // Versions are per type: the sidecar runs a config once it named (or ACKed) every type's version of it.
            String version = request.getVersionInfo();
            if (!version.isEmpty() && !request.hasErrorDetail()) {
                SidecarStatus updated =
                        streams.computeIfPresent(streamId, (id, s) -> s.withType(typeUrl, t -> t.acked(version)));
                if (updated != null) {
                    controlPlane.accepted(identity, updated::holds);
                }
            }
            return;
        }
        if (request.hasErrorDetail()) {
            String message = request.getErrorDetail().getMessage();
            SidecarStatus.TypeStatus type =
                    status.types().getOrDefault(SidecarStatus.shortType(typeUrl), SidecarStatus.TypeStatus.NONE);
            // The version rejected is the one sent with the nonce the NACK names; an older nonce is an older response.
            String rejected = request.getResponseNonce().equals(type.sentNonce()) ? type.sentVersion() : null;
            metrics.nacked(SidecarStatus.shortType(typeUrl));
            pendingAcks.answered(streamId, typeUrl, request.getResponseNonce(), metrics.monotonicNanos());
            streams.computeIfPresent(
                    streamId,
                    (id, s) -> s.withType(
                            typeUrl, t -> t.nacked(rejected == null ? "(older response)" : rejected, message)));
            controlPlane.rejected(identity, status.nodeId(), typeUrl, rejected, message);
        } else {
            pendingAcks
                    .answered(streamId, typeUrl, request.getResponseNonce(), metrics.monotonicNanos())
                    .ifPresent(nanos -> metrics.acked(SidecarStatus.shortType(typeUrl), nanos));
            SidecarStatus updated = streams.computeIfPresent(
                    streamId, (id, s) -> s.withType(typeUrl, t -> t.acked(request.getVersionInfo())));
            if (updated != null) {
                controlPlane.accepted(identity, updated::holds);
            }
        }
    }

    @Override
    public void onV3StreamResponse(long streamId, DiscoveryRequest request, DiscoveryResponse response) {
        // java-control-plane calls this just before it sends the response: the clock starts here.
        pendingAcks.sent(streamId, response.getTypeUrl(), response.getNonce(), metrics.monotonicNanos());
        metrics.responseSent(SidecarStatus.shortType(response.getTypeUrl()));
        streams.computeIfPresent(
                streamId,
                (id, s) -> s.withType(
                        response.getTypeUrl(),
                        t -> t.sent(response.getVersionInfo(), response.getNonce(), clock.instant())));
    }

    @Override
    public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) throws RequestException {
        // Our bootstraps use state-of-the-world ADS; refuse delta so a stray client gets a clear error.
        throw new RequestException(
                Status.UNIMPLEMENTED.withDescription("Portcullis serves state-of-the-world ADS only"));
    }

    @Override
    public void onStreamClose(long streamId, String typeUrl) {
        closed(streamId);
    }

    @Override
    public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
        closed(streamId);
    }

    private void closed(long streamId) {
        pendingAcks.closed(streamId);
        SidecarStatus status = streams.remove(streamId);
        if (status != null) {
            LOG.info(
                    "sidecar disconnected: node={} identity={} stream={}",
                    status.nodeId(),
                    status.identity(),
                    streamId);
        }
    }

    public List<SidecarStatus> sidecars() {
        return streams.values().stream()
                .sorted(Comparator.comparing(SidecarStatus::identity).thenComparing(SidecarStatus::nodeId))
                .toList();
    }
}
