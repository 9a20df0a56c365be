package io.portcullis.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.runtime.v3.Runtime;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarContract;

/**
 * The runtime layer every sidecar is served over RTDS ({@link SidecarBootstrap#RTDS_LAYER}): the MeshConfig's
 * sample rate of allowed traffic in the decision log, under {@link SidecarContract#DECISION_SAMPLE_RUNTIME_KEY}.
 * Prepared once per rate, so a gRPC thread answering a sidecar only stamps a nonce on {@link #response}.
 *
 * @param allowedPercent the MeshConfig's {@code spec.observability.egressDecisionLog.allowedSamplePercent}
 * @param response the state-of-the-world response carrying the layer, without a nonce
 */
record DecisionSamplingLayer(int allowedPercent, DiscoveryResponse response) {

    static final String TYPE_URL = "type.googleapis.com/envoy.service.runtime.v3.Runtime";

    static DecisionSamplingLayer of(int allowedPercent) {
        if (allowedPercent < 0 || allowedPercent > 100) {
            throw new IllegalArgumentException("sample percent " + allowedPercent + " is not within 0-100");
        }
        Runtime runtime = Runtime.newBuilder()
                .setName(SidecarBootstrap.RTDS_LAYER)
                .setLayer(Struct.newBuilder()
                        .putFields(
                                SidecarContract.DECISION_SAMPLE_RUNTIME_KEY,
                                Value.newBuilder()
                                        .setNumberValue(allowedPercent)
                                        .build()))
                .build();
        return new DecisionSamplingLayer(
                allowedPercent,
                DiscoveryResponse.newBuilder()
                        // The content itself: every control plane serves the same version for the same rate, so a
                        // sidecar failing over to another is sent nothing new.
                        .setVersionInfo(version(allowedPercent))
                        .setTypeUrl(TYPE_URL)
                        .addResources(Any.pack(runtime))
                        .build());
    }

    static String version(int allowedPercent) {
        return "sample-" + allowedPercent;
    }

    String version() {
        return response.getVersionInfo();
    }
}
