package io.portcullis.xds;

import io.portcullis.input.ServiceAccountRef;

/**
 * An identity served deny-all because its Envoy rejected a config and no policy could be blamed (a
 * MeshConfig change, or the config without the blamed policies was rejected too). Lifted when the
 * identity's policies or the MeshConfig change.
 */
public record Lockdown(ServiceAccountRef identity, String version, String type, String nodeId, String envoyMessage) {

    public String fix() {
        return "Envoy rejected the config for " + identity + " and no single policy could be blamed, so its sidecars "
                + "are served deny-all; check Envoy's message and the sidecar's bootstrap, then change the policies "
                + "or MeshConfig, which tries again";
    }
}
