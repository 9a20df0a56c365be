package io.portcullis.xds;

import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Status;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.identity.PeerAuthentication;
import io.portcullis.identity.SpiffeId;
import io.portcullis.input.ServiceAccountRef;

/**
 * The one place a connecting sidecar's identity is decided.
 *
 * <p>The identity is the SPIFFE ID of the client certificate the sidecar proved it holds in the TLS
 * handshake (the handshake already checked it chains to the mesh CA and has not expired). The node
 * id, which the sidecar writes itself, is only a claim: it must name the same namespace and
 * ServiceAccount, otherwise the stream is refused. Without this check any process that reaches the
 * xDS port could write another ServiceAccount into its node id and read that identity's egress
 * config. Plaintext calls trust the node id, and exist only on servers explicitly built for them.
 *
 * <p>The node metadata must name the same identity too ({@link SidecarBootstrap#META_NAMESPACE},
 * {@link SidecarBootstrap#META_SERVICE_ACCOUNT}): Envoy writes the identity into its decision logs and its
 * decision counter from there ({@link SidecarBootstrap#IDENTITY_FORMAT}), not from its config, so that identities
 * with equal policies are served one config built once. A node whose metadata is missing or names someone else
 * is refused, so a sidecar's logs always name the identity its certificate proved.
 */
public final class SidecarIdentity {

    private SidecarIdentity() {}

    /** Why a sidecar was refused; the message names the node id, the certificate identity and the address. */
    public static final class Refused extends Exception {
        private final Status.Code code;

        public Refused(Status.Code code, String message) {
            super(message);
            this.code = code;
        }

        /** What the sidecar's stream is closed with. */
        public Status status() {
            return Status.fromCode(code).withDescription(getMessage());
        }
    }

    /**
     * The identity of the sidecar on the current call.
     *
     * @param peer what the transport proved, from {@link PeerAuthentication#current()}; {@code null}
     *     (a call that did not pass the interceptor) is refused
     * @throws Refused when the node id is malformed, there is no certificate, the certificate is not a
     *     SPIFFE ID of this trust domain, or it names another namespace or ServiceAccount, or the node metadata
     *     does not name the same identity
     */
    public static ServiceAccountRef authenticate(Node node, PeerAuthentication peer) throws Refused {
        String nodeId = node.getId();
        if (peer == null) {
            throw new Refused(
                    Status.Code.PERMISSION_DENIED,
                    "node id '" + nodeId + "': no transport authentication on this call (server misconfigured)");
        }
        ServiceAccountRef claimed;
        try {
            claimed = of(node);
        } catch (IllegalArgumentException e) {
            throw new Refused(
                    Status.Code.INVALID_ARGUMENT,
                    "node id from " + peer.remoteAddress() + " is invalid: " + e.getMessage());
        }
        ServiceAccountRef identity = switch (peer) {
            case PeerAuthentication.PlaintextTrustingNodeId plaintext -> claimed;
            case PeerAuthentication.NoCertificate none ->
                throw new Refused(
                        Status.Code.PERMISSION_DENIED,
                        "node id '" + nodeId + "' claims " + claimed + " but " + none.remoteAddress()
                                + " presented no client certificate");
            case PeerAuthentication.Certificate cert -> {
                SpiffeId proven;
                try {
                    proven = SpiffeId.fromCertificate(cert.leaf());
                } catch (IllegalArgumentException e) {
                    throw new Refused(
                            Status.Code.PERMISSION_DENIED,
                            "node id '" + nodeId + "' claims " + claimed + " but the certificate of "
                                    + cert.remoteAddress() + " is no workload identity: " + e.getMessage());
                }
                if (!proven.trustDomain().equals(cert.trustDomain())) {
                    throw new Refused(
                            Status.Code.PERMISSION_DENIED,
                            "node id '" + nodeId + "' claims " + claimed + " but the certificate of "
                                    + cert.remoteAddress() + " is " + proven + ", outside trust domain "
                                    + cert.trustDomain());
                }
                if (!proven.serviceAccountRef().equals(claimed)) {
                    throw new Refused(
                            Status.Code.PERMISSION_DENIED,
                            "node id '" + nodeId + "' claims " + claimed + " but the certificate of "
                                    + cert.remoteAddress() + " is " + proven + " (" + proven.serviceAccountRef() + ")");
                }
                yield claimed;
            }
        };
        String how = peer instanceof PeerAuthentication.Certificate
                ? "proved by its certificate"
                : "claimed by its node id (plaintext server)";
        checkMetadata(node, SidecarBootstrap.META_NAMESPACE, identity.namespace(), identity, how);
        checkMetadata(node, SidecarBootstrap.META_SERVICE_ACCOUNT, identity.name(), identity, how);
        return identity;
    }

    /** Refuses a node whose metadata {@code key} is not {@code expected}, the identity's part it must carry. */
    private static void checkMetadata(Node node, String key, String expected, ServiceAccountRef identity, String how)
            throws Refused {
        Value value = node.getMetadata().getFieldsMap().get(key);
        String problem;
        if (value == null) {
            problem = "has no metadata '" + key + "'";
        } else if (value.getKindCase() != Value.KindCase.STRING_VALUE) {
            problem = "has metadata '" + key + "' that is no string";
        } else if (!value.getStringValue().equals(expected)) {
            problem = "has metadata '" + key + "': '" + value.getStringValue() + "'";
        } else {
            return;
        }
        throw new Refused(
                Status.Code.PERMISSION_DENIED,
                "node id '" + node.getId() + "' " + problem + ", but its identity " + how + " is " + identity
                        + ": the sidecar's decision logs read the identity from node metadata '"
                        + SidecarBootstrap.META_NAMESPACE + "' and '" + SidecarBootstrap.META_SERVICE_ACCOUNT
                        + "', so they must be '" + identity.namespace() + "' and '" + identity.name()
                        + "'; write the bootstrap with `portcullis bootstrap` (it sets them) or set them in "
                        + "node.metadata");
    }

    /**
     * The identity a node id claims, unauthenticated: the key java-control-plane's cache groups
     * sidecars by. It is only reached for requests {@link #authenticate} accepted (SidecarRegistry
     * checks every request before the cache sees it).
     *
     * @throws IllegalArgumentException when the node id is not one Portcullis issued
     */
    public static ServiceAccountRef of(Node node) {
        SidecarNodeId id = SidecarNodeId.parse(node.getId());
        return new ServiceAccountRef(id.namespace(), id.serviceAccount());
    }
}
