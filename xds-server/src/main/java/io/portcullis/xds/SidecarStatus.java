package io.portcullis.xds;

import io.portcullis.input.ServiceAccountRef;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one connected sidecar (one ADS stream) has been sent and has accepted, per xDS type.
 */
public record SidecarStatus(
        long streamId, String nodeId, ServiceAccountRef identity, Instant connectedAt, Map<String, TypeStatus> types) {

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
     */
    public record TypeStatus(
            String sentVersion,
            String sentNonce,
            String ackedVersion,
            String nackedVersion,
            String nackMessage,
            long nacks) {
        static final TypeStatus NONE = new TypeStatus(null, null, null, null, null, 0);

        TypeStatus sent(String version, String nonce) {
            return new TypeStatus(version, nonce, ackedVersion, nackedVersion, nackMessage, nacks);
        }

        TypeStatus acked(String version) {
            return new TypeStatus(sentVersion, sentNonce, version, nackedVersion, nackMessage, nacks);
        }

        TypeStatus nacked(String version, String message) {
            return new TypeStatus(sentVersion, sentNonce, ackedVersion, version, message, nacks + 1);
        }
    }

    SidecarStatus withType(String typeUrl, java.util.function.UnaryOperator<TypeStatus> change) {
        Map<String, TypeStatus> next = new TreeMap<>(types);
        next.put(shortType(typeUrl), change.apply(next.getOrDefault(shortType(typeUrl), TypeStatus.NONE)));
        return new SidecarStatus(streamId, nodeId, identity, connectedAt, next);
    }

    /** The listener version the sidecar runs: what operators compare with the identity's snapshot. */
    public String ackedListenerVersion() {
        TypeStatus listeners = types.get("Listener");
        return listeners == null ? null : listeners.ackedVersion();
    }

    static String shortType(String typeUrl) {
        return typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    }
}
