package io.portcullis.xds;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.model.ServiceAccountRef;

/**
 * The one place a connecting sidecar's identity is decided. Today it is read from the Envoy node id
 * that {@code portcullis bootstrap} wrote; authenticating it (mTLS, projected tokens) replaces this
 * method and nothing else.
 */
public final class SidecarIdentity {

    private SidecarIdentity() {
    }

    /** @throws IllegalArgumentException when the node id is not one Portcullis issued */
    public static ServiceAccountRef of(Node node) {
        SidecarNodeId id = SidecarNodeId.parse(node.getId());
        return new ServiceAccountRef(id.namespace(), id.serviceAccount());
    }
}
