package io.portcullis.cli;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.portcullis.crds.MeshConfig;
import io.portcullis.debug.DebugAccess;
import io.portcullis.debug.DebugEndpoint;
import io.portcullis.decisions.RecentDecisions;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.JdkServerTls;
import io.portcullis.identity.SpiffeId;
import io.portcullis.identity.XdsServerTls;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.metrics.ControlPlaneMetrics;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.HeapFootprint;
import io.portcullis.xds.SidecarRegistry;
import io.portcullis.xds.XdsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description =
                "Run the control plane: watch a directory of manifests (or a Kubernetes API server) and serve xDS (ADS)"
                        + " to sidecars over mutual TLS; a sidecar's identity is the SPIFFE ID of its certificate from"
                        + " the mesh CA.")
final class ServeCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Mixin
    ServeSourceOptions source;

    @Option(
            names = "--xds-address",
            defaultValue = "0.0.0.0",
            description = "Address for ADS gRPC (default: ${DEFAULT-VALUE}).")
    String xdsAddress;

    @Option(
            names = "--xds-port",
            defaultValue = "15010",
            description = "Port for ADS gRPC (default: ${DEFAULT-VALUE}).")
    int xdsPort;

    @Option(
            names = "--xds-server-name",
            description =
                    "Host name or IP address sidecars dial the control plane by (their"
                            + " --xds-host), put in its certificate; repeatable. A specific --xds-address is added automatically.")
    List<String> xdsServerNames = new ArrayList<>();

    @Mixin
    CaOptions ca;

    @Option(
            names = "--cert-validity",
            defaultValue = "24h",
            converter = DurationConverter.class,
            description =
                    "Validity of the control plane's own server certificates, renewed in memory at half-life (default: ${DEFAULT-VALUE}).")
    Duration certValidity;

    @Option(
            names = "--insecure-plaintext-xds",
            description = "DEVELOPMENT ONLY: serve xDS without TLS, trusting the node id any"
                    + " client sends. Refused unless --xds-address is loopback.")
    boolean plaintextXds;

    @Option(
            names = "--debug-address",
            defaultValue = "127.0.0.1",
            description = "Address of the debug endpoint (default: ${DEFAULT-VALUE});"
                    + " anything but loopback needs --debug-token-file or --debug-client-identity.")
    String debugAddress;

    @Option(
            names = "--debug-port",
            defaultValue = "15080",
            description =
                    "Port of the debug endpoint: /debug/..., and /metrics for Prometheus (default: ${DEFAULT-VALUE}).")
    int debugPort;

    @Option(
            names = "--debug-token-file",
            description = "File holding a bearer token the debug endpoint requires (Authorization: Bearer ...).")
    Path debugTokenFile;

    @Option(
            names = "--debug-client-identity",
            description = "NAMESPACE/SERVICEACCOUNT whose certificate from the mesh CA may read the"
                    + " debug endpoint, which then speaks HTTPS and requires a client certificate; repeatable.")
    List<String> debugClients = new ArrayList<>();

    @Option(
            names = "--replica-name",
            defaultValue = "${env:POD_NAME}",
            description = "This control plane's name among its replicas, shown with every sidecar connected to it"
                    + " (proxy-status, /debug/sidecars, the operator page); default: $POD_NAME, else the host name.")
    String replicaName;

    @Option(
            names = "--mesh-namespace",
            defaultValue = MeshConfig.DEFAULT_NAMESPACE,
            description = "Namespace of MeshConfig " + MeshConfig.DEFAULT_NAME + " (default: ${DEFAULT-VALUE}).")
    String meshNamespace;

    @Mixin
    AdmissionWebhookOptions webhooks;

    @Mixin
    StatusReportingOptions status;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        InetSocketAddress xdsSocket = new InetSocketAddress(xdsAddress, xdsPort);
        InetSocketAddress debugSocket = new InetSocketAddress(debugAddress, debugPort);
        Optional<XdsServerTls> xdsTls;
        DebugAccess debugAccess;
        Optional<CertificateAuthority> authority;
        try {
            authority = ca.load(Clock.systemUTC());
            xdsTls = xdsTls(xdsSocket, authority);
            debugAccess = debugAccess(debugSocket, authority);
            status.lease(); // refuses inconsistent lease timing before anything starts
        } catch (IllegalArgumentException | IOException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        // Committed heap follows the live data back down after a connect storm (see HeapFootprint).
        List<String> heapSettings = HeapFootprint.ofThisJvm().apply();
        LOG.debug("heap footprint settings applied: {}", heapSettings);
        // One registry for this control plane, scraped at the debug endpoint's /metrics; nothing global.
        ControlPlaneMetrics metrics = new ControlPlaneMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        EgressControlPlane controlPlane =
                new EgressControlPlane(metrics, new RecentDecisions(EgressControlPlane.DEFAULT_RECENT_DECISIONS));
        SidecarRegistry registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
        try (ServeSourceOptions.Opened opened = source.open(spec, meshNamespace, metrics);
                XdsServer xds = xdsTls.isPresent()
                        ? new XdsServer(xdsSocket, controlPlane, registry, xdsTls.get())
                        : new XdsServer(xdsSocket, controlPlane, registry);
                DebugEndpoint debug =
                        new DebugEndpoint(debugSocket, controlPlane, registry, replicaName(), debugAccess);
                AdmissionWebhookOptions.Webhooks admission =
                        webhooks.open(opened.kubernetes(), authority, ca.trustDomain, certValidity);
                StatusReportingOptions.Reporter statusReporting = status.open(opened.kubernetes())) {
            // The port opens first, so sidecars connect while the config loads (1,000 connections take seconds of
            // their own): none is answered before the first complete config is applied (EgressControlPlane waits
            // for it), then each as soon as its identity is built.
            xds.start();
            // Blocks until the first complete snapshot is applied; the debug endpoint (which tools and the bench
            // take for "ready") opens after it.
            opened.config().start(controlPlane::apply);
            statusReporting.start(controlPlane);
            xdsTls.ifPresent(tls -> LOG.info(
                    "xDS requires mutual TLS: server certificate for {}, client certificates from the"
                            + " mesh CA with a SPIFFE ID in trust domain {}",
                    tls.serverNames(),
                    tls.trustDomain()));
            debug.start();
            admission.start();
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            stop.await();
        }
        return 0;
    }

    private String replicaName() throws IOException {
        if (replicaName != null && !replicaName.isBlank()) {
            return replicaName.strip();
        }
        return InetAddress.getLocalHost().getHostName();
    }

    private Optional<XdsServerTls> xdsTls(InetSocketAddress xdsSocket, Optional<CertificateAuthority> authority) {
        if (plaintextXds) {
            if (xdsSocket.getAddress() == null || !xdsSocket.getAddress().isLoopbackAddress()) {
                throw new IllegalArgumentException(
                        "--insecure-plaintext-xds lets any client read any identity's config by naming it"
                                + " in its node id; it is refused on " + xdsAddress
                                + " (only a loopback --xds-address may use it)");
            }
            for (int i = 0; i < 3; i++) {
                LOG.warn(
                        "INSECURE: --insecure-plaintext-xds: xDS on {} is plaintext and trusts node ids; development only",
                        xdsSocket);
            }
            return Optional.empty();
        }
        CertificateAuthority issuer = authority.orElseThrow(() -> new IllegalArgumentException(
                "serve authenticates sidecars with certificates from the mesh CA: pass --ca-dir DIR (generated there on first use)"
                        + " or --ca-cert FILE --ca-key FILE"));
        Set<String> names = new LinkedHashSet<>(xdsServerNames);
        InetAddress bound = xdsSocket.getAddress();
        if (bound != null && !bound.isAnyLocalAddress()) {
            names.add(bound.getHostAddress());
        }
        return Optional.of(new XdsServerTls(issuer, List.copyOf(names), certValidity, ca.trustDomain));
    }

    private DebugAccess debugAccess(InetSocketAddress debugSocket, Optional<CertificateAuthority> authority)
            throws IOException {
        Optional<String> token = Optional.empty();
        if (debugTokenFile != null) {
            String text = Files.readString(debugTokenFile).strip();
            if (text.isEmpty()) {
                throw new IllegalArgumentException("--debug-token-file " + debugTokenFile + " is empty");
            }
            token = Optional.of(text);
        }
        Optional<javax.net.ssl.SSLContext> tls = Optional.empty();
        Set<SpiffeId> clients = new LinkedHashSet<>();
        if (!debugClients.isEmpty()) {
            CertificateAuthority issuer = authority.orElseThrow(() -> new IllegalArgumentException(
                    "--debug-client-identity needs the mesh CA: pass --ca-dir or --ca-cert/--ca-key"));
            for (String client : debugClients) {
                clients.add(SpiffeId.of(ca.trustDomain, ServiceAccountRef.parse(client)));
            }
            List<String> names = new ArrayList<>(xdsServerNames);
            names.add(
                    debugSocket.getAddress() == null || debugSocket.getAddress().isAnyLocalAddress()
                            ? "127.0.0.1"
                            : debugSocket.getAddress().getHostAddress());
            tls = Optional.of(JdkServerTls.serverContext(issuer, names, certValidity, Clock.systemUTC()));
        }
        DebugAccess access = new DebugAccess(token, tls, clients);
        if (!access.authenticates()
                && (debugSocket.getAddress() == null
                        || !debugSocket.getAddress().isLoopbackAddress())) {
            throw new IllegalArgumentException(DebugEndpoint.notLoopbackMessage(debugAddress));
        }
        return access;
    }
}
