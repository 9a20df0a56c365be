package io.portcullis.xds;

import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last response of each type sent on each ADS stream and when, so the ACK of its nonce can be timed
 * (the push-to-ACK latency). Only the last one counts: Envoy ACKs or NACKs each response it applies, but a
 * response superseded before Envoy answered is answered by the newer nonce, and timing that from the older
 * send would mix two pushes into one latency.
 */
final class PendingAcks {

    private record Sent(String nonce, long nanos) {}

    private final Map<Long, Map<String, Sent>> streams = new ConcurrentHashMap<>();

    void sent(long streamId, String type, String nonce, long nanos) {
        streams.computeIfAbsent(streamId, id -> new ConcurrentHashMap<>()).put(type, new Sent(nonce, nanos));
    }

    /**
     * The stream answered {@code nonce} of {@code type}: how long after it was sent, once; empty when the
     * nonce is not the last one sent of that type (an older response, or a subscription).
     */
    OptionalLong answered(long streamId, String type, String nonce, long nanos) {
        Map<String, Sent> types = streams.get(streamId);
        if (types == null) {
            return OptionalLong.empty();
        }
        Sent sent = types.get(type);
        if (sent == null || !sent.nonce().equals(nonce) || !types.remove(type, sent)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(nanos - sent.nanos());
    }

    void closed(long streamId) {
        streams.remove(streamId);
    }
}
