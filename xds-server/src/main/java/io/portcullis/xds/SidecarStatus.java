package io.portcullis.xds;

import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ServiceAccountRef;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one connected sidecar (one ADS stream) has been sent and has accepted, per xDS type.
 *
 * @param podName  the pod named in the node id ({@code sidecar~<namespace>~<serviceAccount>~<pod>}, which the
 *     bootstrap also writes as node metadata {@code pod_name}); self-asserted, unlike the identity
 * @param lastSeen when the stream last carried a message from the sidecar. ADS is quiet while nothing
 *     changes, so an old value alone says nothing is wrong; see {@link SidecarSync}
 */
public record SidecarStatus(
        long streamId,
        String nodeId,
        String podName,
        ServiceAccountRef identity,
        Instant connectedAt,
        Instant lastSeen,
        Map<String, TypeStatus> types) {

    public SidecarStatus {
        types = java.util.Collections.unmodifiableMap(new TreeMap<>(types));
    }

    /**
     * @param sentVersion   last version sent on the stream
     * @param sentNonce     nonce of that response: a NACK naming another nonce is about an older response
     * @param ackedVersion  last version the sidecar accepted
     * @param nackedVersion version of the last rejection, null when it never rejected
     * @param nackMessage   Envoy's error_detail for that rejection
     * @param nacks         how many NACKs of this type the stream sent: stays small unless something loops
     * @param pendingSince  when the first response not yet ACKed was sent; null while the sidecar has ACKed
     *     what it was last sent. Kept across further pushes, so a sidecar sent a new version every few
     *     seconds that never ACKs still ages
     */
    public record TypeStatus(
            String sentVersion,
            String sentNonce,
            String ackedVersion,
            String nackedVersion,
            String nackMessage,
            long nacks,
            Instant pendingSince) {
        static final TypeStatus NONE = new TypeStatus(null, null, null, null, null, 0, null);

        TypeStatus sent(String version, String nonce, Instant at) {
            Instant pending = version.equals(ackedVersion) ? null : (pendingSince != null ? pendingSince : at);
            return new TypeStatus(version, nonce, ackedVersion, nackedVersion, nackMessage, nacks, pending);
        }

        TypeStatus acked(String version) {
            Instant pending = version.equals(sentVersion) ? null : pendingSince;
            return new TypeStatus(sentVersion, sentNonce, version, nackedVersion, nackMessage, nacks, pending);
        }

        TypeStatus nacked(String version, String message) {
            return new TypeStatus(sentVersion, sentNonce, ackedVersion, version, message, nacks + 1, pendingSince);
        }

        /** The last response of this type was rejected and nothing was accepted since. */
        public boolean rejectsLastSent() {
            return sentVersion != null && sentVersion.equals(nackedVersion) && !sentVersion.equals(ackedVersion);
        }
    }

    SidecarStatus withType(String typeUrl, java.util.function.UnaryOperator<TypeStatus> change) {
        Map<String, TypeStatus> next = new TreeMap<>(types);
        next.put(shortType(typeUrl), change.apply(next.getOrDefault(shortType(typeUrl), TypeStatus.NONE)));
        return new SidecarStatus(streamId, nodeId, podName, identity, connectedAt, lastSeen, next);
    }

    SidecarStatus seen(Instant at) {
        return new SidecarStatus(streamId, nodeId, podName, identity, connectedAt, at, types);
    }

    /** The listener version the sidecar runs (LDS; each type has a version of its own). */
    public String ackedListenerVersion() {
        return ackedVersion(SidecarResources.Versions.LISTENER);
    }

    /** The version of {@code type} (Cluster, Listener, RouteConfiguration) the sidecar runs; null if none known. */
    public String ackedVersion(String type) {
        TypeStatus status = types.get(type);
        return status == null ? null : status.ackedVersion();
    }

    /**
     * Whether the sidecar runs the config with these versions: it ACKed (or, on a new stream, named) each
     * type's version of that config. Route tables count only when the config's listeners name some: a
     * sidecar asks for RDS only then, so otherwise its last RDS version may lawfully be older.
     */
    public boolean holds(SidecarResources.Versions config) {
        return config.requiredTypes().stream()
                .allMatch(type -> config.of(type).orElseThrow().equals(ackedVersion(type)));
    }

    static String shortType(String typeUrl) {
        return typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    }
}
