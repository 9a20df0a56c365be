package io.portcullis.decisions;

import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.portcullis.envoy.DecisionLog;
import io.portcullis.identity.PeerAuthentication;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.metrics.ControlPlaneMetrics;
import io.portcullis.xds.SidecarIdentity;
import java.time.Clock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's gRPC Access Log Service on the xDS server: sidecars stream their decision log here over the
 * mutual-TLS connection they use for ADS. Each decision is kept in the control plane's {@link
 * RecentDecisions} and counted ({@code portcullis_egress_decisions_total}).
 *
 * <p>Who reported it is decided as for ADS, by {@link SidecarIdentity#authenticate}: the node in the
 * stream's first message (its identifier) must name the identity of the client certificate, or the stream
 * is refused; on the plaintext development server the node id is trusted, as for ADS. Nothing in an entry
 * can change that identity (see {@link DecisionLogEntries}). Entries of another log name than
 * {@link DecisionLog#ALS_LOG_NAME} are not decisions and are left out.
 */
public final class DecisionLogReceiver extends AccessLogServiceGrpc.AccessLogServiceImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(DecisionLogReceiver.class);

    private final RecentDecisions decisions;
    private final ControlPlaneMetrics metrics;
    private final Clock clock;

    public DecisionLogReceiver(RecentDecisions decisions, ControlPlaneMetrics metrics, Clock clock) {
        this.decisions = decisions;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public StreamObserver<StreamAccessLogsMessage> streamAccessLogs(
            StreamObserver<StreamAccessLogsResponse> responses) {
        // Called inside the call's Context, which PeerCertificateInterceptor filled.
        return new Stream(PeerAuthentication.current(), responses);
    }

    /** One sidecar's access log stream; gRPC calls it from one thread at a time. */
    private final class Stream implements StreamObserver<StreamAccessLogsMessage> {
        private final PeerAuthentication peer;
        private final StreamObserver<StreamAccessLogsResponse> responses;
        private ServiceAccountRef identity;
        private String nodeId;
        private String logName;
        private boolean closed;
        private boolean mismatchLogged;

        Stream(PeerAuthentication peer, StreamObserver<StreamAccessLogsResponse> responses) {
            this.peer = peer;
            this.responses = responses;
        }

        @Override
        public void onNext(StreamAccessLogsMessage message) {
            if (closed) {
                return;
            }
            if (message.hasIdentifier()) {
                // Envoy names itself in the first message; a later identifier must not switch identities.
                ServiceAccountRef proven;
                try {
                    proven =
                            SidecarIdentity.authenticate(message.getIdentifier().getNode(), peer);
                } catch (SidecarIdentity.Refused e) {
                    refuse(e.status());
                    return;
                }
                if (identity != null && !identity.equals(proven)) {
                    refuse(Status.PERMISSION_DENIED.withDescription(
                            "node id changed on an access log stream from '" + nodeId + "' to '"
                                    + message.getIdentifier().getNode().getId() + "'"));
                    return;
                }
                identity = proven;
                nodeId = message.getIdentifier().getNode().getId();
                logName = message.getIdentifier().getLogName();
            }
            if (identity == null) {
                refuse(Status.INVALID_ARGUMENT.withDescription(
                        "the first access log message must carry the identifier (node and log name)"));
                return;
            }
            if (!DecisionLog.ALS_LOG_NAME.equals(logName)) {
                metrics.decisionLogProblem("other_log_name");
                return;
            }
            switch (message.getLogEntriesCase()) {
                case HTTP_LOGS -> entries(message.getHttpLogs().getLogEntryList(), this::read);
                case TCP_LOGS -> entries(message.getTcpLogs().getLogEntryList(), this::read);
                case LOGENTRIES_NOT_SET -> {}
            }
        }

        private DecisionLogEntries.Reading read(HTTPAccessLogEntry entry) {
            return DecisionLogEntries.read(entry, identity, clock.instant());
        }

        private DecisionLogEntries.Reading read(TCPAccessLogEntry entry) {
            return DecisionLogEntries.read(entry, identity, clock.instant());
        }

        private <E> void entries(Iterable<E> entries, Function<E, DecisionLogEntries.Reading> read) {
            for (E entry : entries) {
                switch (read.apply(entry)) {
                    case DecisionLogEntries.Decision d -> {
                        if (d.claimedIdentity() != null) {
                            metrics.decisionLogProblem("identity_mismatch");
                        }
                        if (d.claimedIdentity() != null && !mismatchLogged) {
                            // Once per stream: the counter says how often; the log says who.
                            mismatchLogged = true;
                            LOG.warn(
                                    "sidecar {} ({} by its certificate) reported a decision as '{}'; recorded as {}",
                                    nodeId,
                                    identity,
                                    d.claimedIdentity(),
                                    identity);
                        }
                        decisions.record(d.decision());
                        metrics.decision(d.decision());
                    }
                    case DecisionLogEntries.Ignored ignored -> {
                        metrics.decisionLogProblem(ignored.problem());
                        LOG.debug("sidecar {} ({}): access log entry ignored: {}", nodeId, identity, ignored.detail());
                    }
                }
            }
        }

        private void refuse(Status status) {
            closed = true;
            metrics.decisionLogProblem("stream_refused");
            LOG.warn(
                    "refusing access log stream from {}: {}",
                    peer == null ? "unknown address" : peer.remoteAddress(),
                    status.getDescription());
            responses.onError(status.asRuntimeException());
        }

        @Override
        public void onError(Throwable t) {
            // The sidecar went away (restart, drain); its next stream starts afresh.
        }

        @Override
        public void onCompleted() {
            if (!closed) {
                closed = true;
                responses.onNext(StreamAccessLogsResponse.getDefaultInstance());
                responses.onCompleted();
            }
        }
    }
}
