package io.portcullis.kubernetes.injection;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.portcullis.bootstrap.CertificateDirectory;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.bootstrap.XdsEndpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The containers and volumes the injector adds to a pod, derived from the sidecar contract
 * ({@link SidecarContract}: proxy UID, outbound and health ports) and the bootstrap
 * ({@link SidecarBootstrap}: Envoy's flags; {@link CertificateDirectory}: the certificate file names).
 *
 * <p>The init container runs {@code portcullis bootstrap} for the pod (its name comes from the downward API:
 * a pod created from a template has no name yet when the injector sees it) and installs the interception
 * rules of {@code portcullis iptables}. The Envoy container runs as the proxy UID with that bootstrap and the
 * pod's ServiceAccount certificate from the Secret {@link SidecarSecrets} writes.
 */
public record SidecarTemplate(InjectorSettings settings) {

    public static final String INIT_CONTAINER = "portcullis-init";
    public static final String SIDECAR_CONTAINER = "portcullis-sidecar";
    static final String BOOTSTRAP_VOLUME = "portcullis-bootstrap";
    static final String CERTIFICATE_VOLUME = "portcullis-certs";
    static final String BOOTSTRAP_DIR = "/var/run/portcullis/bootstrap";
    static final String BOOTSTRAP_FILE = BOOTSTRAP_DIR + "/envoy.yaml";
    /** Where the Secret is mounted: the {@link CertificateDirectory} the bootstrap refers to. */
    static final CertificateDirectory CERTIFICATES = new CertificateDirectory(Path.of("/var/run/portcullis/certs"));

    static final String POD_NAME_ENV = "POD_NAME";

    /** The init container for a pod of this namespace and ServiceAccount. */
    public Container initContainer(String namespace, String serviceAccount, ClusterInternalDestinations internal) {
        List<String> bootstrap = new ArrayList<>(List.of(
                "portcullis",
                "bootstrap",
                "-n",
                namespace,
                "--service-account",
                serviceAccount,
                "--pod",
                "\"$" + POD_NAME_ENV + "\""));
        for (XdsEndpoint xds : settings.xdsEndpoints()) {
            bootstrap.addAll(List.of("--xds-host", xds.toString()));
        }
        bootstrap.addAll(List.of("--cert-dir", CERTIFICATES.dir().toString(), "-o", BOOTSTRAP_FILE));
        List<String> iptables = new ArrayList<>(
                List.of("portcullis", "iptables", "--proxy-uid", Integer.toString(SidecarContract.DEFAULT_PROXY_UID)));
        internal.cidrs().forEach(cidr -> iptables.addAll(List.of("--exclude-cidr", cidr)));
        internal.ports().forEach(port -> iptables.addAll(List.of("--exclude-port", port.toString())));
        // Every value above is a validated Kubernetes name, CIDR, port or host, so none needs shell quoting.
        // The rules are captured before they are applied: piped straight into iptables-restore, a failing
        // 'portcullis iptables' would leave it an empty input, which it applies happily, and the pod would
        // start with no interception at all. 'set -e' stops at the first failure, and the pod does not start.
        String script = String.join(
                "\n",
                "set -eu",
                String.join(" ", bootstrap),
                "rules=$(" + String.join(" ", iptables) + ")",
                "printf '%s\\n' \"$rules\" | iptables-restore --noflush",
                "rules6=$(" + String.join(" ", iptables) + " --family ipv6)",
                "printf '%s\\n' \"$rules6\" | ip6tables-restore --noflush");
        return new ContainerBuilder()
                .withName(INIT_CONTAINER)
                .withImage(settings.initImage())
                .withCommand("/bin/sh", "-c", script)
                .addNewEnv()
                .withName(POD_NAME_ENV)
                .withNewValueFrom()
                .withNewFieldRef()
                .withFieldPath("metadata.name")
                .endFieldRef()
                .endValueFrom()
                .endEnv()
                .withNewSecurityContext()
                // iptables needs root and these two capabilities in the pod's network namespace; nothing else.
                .withRunAsUser(0L)
                .withRunAsNonRoot(false)
                .withAllowPrivilegeEscalation(false)
                .withNewCapabilities()
                .withAdd("NET_ADMIN", "NET_RAW")
                .withDrop("ALL")
                .endCapabilities()
                .endSecurityContext()
                .addNewVolumeMount()
                .withName(BOOTSTRAP_VOLUME)
                .withMountPath(BOOTSTRAP_DIR)
                .endVolumeMount()
                .withNewResources()
                .withRequests(Map.of("cpu", new Quantity("100m"), "memory", new Quantity("64Mi")))
                .withLimits(Map.of("memory", new Quantity("256Mi")))
                .endResources()
                .build();
    }

    /** The Envoy container. */
    public Container sidecarContainer() {
        long uid = SidecarContract.DEFAULT_PROXY_UID;
        return new ContainerBuilder()
                .withName(SIDECAR_CONTAINER)
                .withImage(settings.proxyImage())
                .withCommand("envoy")
                .withArgs(SidecarBootstrap.envoyArguments(BOOTSTRAP_FILE))
                .addNewPort()
                .withName("sidecar-health")
                .withContainerPort(SidecarContract.HEALTH_PORT)
                .withProtocol("TCP")
                .endPort()
                .withNewSecurityContext()
                // The UID the interception rules exempt: Envoy's own connections must leave the pod.
                .withRunAsUser(uid)
                .withRunAsGroup(uid)
                .withRunAsNonRoot(true)
                .withAllowPrivilegeEscalation(false)
                .withReadOnlyRootFilesystem(true)
                .withNewCapabilities()
                .withDrop("ALL")
                .endCapabilities()
                .endSecurityContext()
                .addNewVolumeMount()
                .withName(BOOTSTRAP_VOLUME)
                .withMountPath(BOOTSTRAP_DIR)
                .withReadOnly(true)
                .endVolumeMount()
                .addNewVolumeMount()
                .withName(CERTIFICATE_VOLUME)
                .withMountPath(CERTIFICATES.dir().toString())
                .withReadOnly(true)
                .endVolumeMount()
                // Ready once the first config from the control plane is in place (or Envoy gave up waiting for
                // it): until then the app's egress is refused.
                .withReadinessProbe(new ProbeBuilder()
                        .withNewHttpGet()
                        .withPath(SidecarContract.READINESS_PATH)
                        .withPort(new IntOrString(SidecarContract.HEALTH_PORT))
                        .endHttpGet()
                        .withPeriodSeconds(2)
                        .withFailureThreshold(3)
                        .build())
                // Alive while its health listener accepts connections. Not ready (no control plane reachable)
                // is not dead: a restart would not bring the control plane back, and would drop the config
                // Envoy keeps enforcing meanwhile.
                .withLivenessProbe(new ProbeBuilder()
                        .withNewTcpSocket()
                        .withPort(new IntOrString(SidecarContract.HEALTH_PORT))
                        .endTcpSocket()
                        .withPeriodSeconds(10)
                        .withFailureThreshold(3)
                        .build())
                .withNewResources()
                .withRequests(Map.of("cpu", new Quantity("100m"), "memory", new Quantity("128Mi")))
                .withLimits(Map.of("memory", new Quantity("512Mi")))
                .endResources()
                .build();
    }

    /** The bootstrap's scratch volume and the ServiceAccount's certificate Secret. */
    public List<Volume> volumes(String secretName) {
        return List.of(
                new VolumeBuilder()
                        .withName(BOOTSTRAP_VOLUME)
                        .withNewEmptyDir()
                        .withMedium("Memory")
                        .endEmptyDir()
                        .build(),
                new VolumeBuilder()
                        .withName(CERTIFICATE_VOLUME)
                        .withNewSecret()
                        .withSecretName(secretName)
                        // Readable by the proxy UID, which is not the files' owner (root). Only the sidecar
                        // container mounts this volume, so the app's containers cannot read the key.
                        .withDefaultMode(0444)
                        .endSecret()
                        .build());
    }
}
