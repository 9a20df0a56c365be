package io.portcullis.kubernetes.injection;

import io.portcullis.bootstrap.InterceptionRules;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.bootstrap.XdsEndpoint;
import io.portcullis.crds.KubernetesNames;
import io.portcullis.crds.MeshConfig;
import io.portcullis.identity.SpiffeId;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the injector puts into every pod that is not derived from the sidecar contract: where the images
 * are, which control planes the sidecars dial, and which destinations are cluster-internal.
 *
 * @param meshName the mesh whose enrolled namespaces get sidecars ({@code flomesh.io/monitored-by})
 * @param initImage image with the {@code portcullis} command, {@code sh}, {@code iptables-restore} and
 *     {@code ip6tables-restore}: it writes the bootstrap and installs the interception rules
 * @param proxyImage image with {@code envoy} on its PATH
 * @param xdsEndpoints the control planes, as the sidecars reach them (the {@code portcullis-xds} Service);
 *     their server certificates must name these hosts
 * @param clusterCidrs the cluster's pod and service CIDRs: cluster-internal, so never egress
 * @param trustDomain SPIFFE trust domain of the workload certificates
 * @param certificateValidity how long a workload certificate the injector issues is valid
 */
public record InjectorSettings(
        String meshName,
        String initImage,
        String proxyImage,
        List<XdsEndpoint> xdsEndpoints,
        List<String> clusterCidrs,
        String trustDomain,
        Duration certificateValidity) {

    /** The {@code portcullis-xds} Service in the control plane's namespace, as sidecars in any namespace reach it. */
    public static final XdsEndpoint DEFAULT_XDS =
            new XdsEndpoint("portcullis-xds." + MeshConfig.DEFAULT_NAMESPACE + ".svc", 15010);

    public InjectorSettings {
        Objects.requireNonNull(meshName, "meshName");
        String problem = KubernetesNames.label(meshName);
        if (problem != null) {
            throw new IllegalArgumentException("mesh name '" + meshName + "' " + problem);
        }
        requireImage("initImage", initImage);
        requireImage("proxyImage", proxyImage);
        xdsEndpoints = List.copyOf(xdsEndpoints);
        if (xdsEndpoints.isEmpty()) {
            throw new IllegalArgumentException("at least one xDS endpoint is needed");
        }
        clusterCidrs = List.copyOf(clusterCidrs);
        // Validated now, by the rules that will render them, so a typo fails the control plane's start, not every pod.
        new InterceptionRules(SidecarContract.DEFAULT_PROXY_UID, SidecarContract.OUTBOUND_PORT, clusterCidrs);
        new SpiffeId(trustDomain, "default", "default");
        if (certificateValidity.isNegative() || certificateValidity.isZero()) {
            throw new IllegalArgumentException("certificate validity must be positive");
        }
    }

    private static void requireImage(String what, String image) {
        Objects.requireNonNull(image, what);
        if (image.isBlank() || image.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(what + " '" + image + "' is not an image reference");
        }
    }
}
