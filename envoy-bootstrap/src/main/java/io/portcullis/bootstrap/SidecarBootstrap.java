package io.portcullis.bootstrap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.bootstrap.v3.LayeredRuntime;
import io.envoyproxy.envoy.config.bootstrap.v3.RuntimeLayer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.UpstreamConnectionOptions;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.BackoffStrategy;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RetryPolicy;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TcpKeepalive;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The static Envoy bootstrap a sidecar starts with. It only knows how to reach the xDS server;
 * everything else (the outbound listener on {@link SidecarContract#OUTBOUND_PORT}, upstream
 * clusters) arrives over ADS so that policy changes never require restarting the pod.
 *
 * @param xdsEndpoints every control plane the sidecar may use, at least one, none twice: when the
 *     one it is connected to goes away, Envoy reconnects to another (see xdsCluster())
 * @param adminAddress must be a loopback IP literal: the admin API can reconfigure and shut down
 *     Envoy (and dump its config), so it must never be reachable from the network.
 * @param xdsCertificates when present, Envoy talks to the xDS server over mutual TLS: it presents
 *     the workload certificate from this directory (its identity, checked by the server) and accepts
 *     only a server certificate that chains to the trust bundle there and names the host of the xDS endpoint it dialled.
 *     Empty only for plaintext xDS, which {@code portcullis serve} refuses off loopback.
 */
public record SidecarBootstrap(
        SidecarNodeId node,
        List<XdsEndpoint> xdsEndpoints,
        int adminPort,
        String adminAddress,
        Optional<CertificateDirectory> xdsCertificates) {

    /** Referenced by the ADS config; the xDS server must not hand out a cluster with this name. */
    public static final String XDS_CLUSTER = "xds_cluster";

    /**
     * The static listener on {@link SidecarContract#HEALTH_PORT} and the cluster it reaches the admin API
     * through; the xDS server must not hand out resources with these names.
     */
    public static final String HEALTH_LISTENER = "sidecar_health";

    public static final String ADMIN_CLUSTER = "sidecar_admin";

    /**
     * How every sidecar's Envoy is started besides {@code -c <bootstrap>}: no hot restart (one Envoy per
     * pod), and when a policy is removed its filter chain drains, and its connections are asked to close
     * at once rather than over Envoy's default 600 s.
     */
    public static final List<String> ENVOY_FLAGS = List.of(
            "--disable-hot-restart", "--drain-strategy", "immediate", "--drain-time-s", "2", "--log-level", "info");

    public static final String DEFAULT_ADMIN_ADDRESS = "127.0.0.1";
    public static final int DEFAULT_ADMIN_PORT = 15000;

    /**
     * Node metadata keys. {@link #META_NAMESPACE} and {@link #META_SERVICE_ACCOUNT} carry the sidecar's identity to
     * its own decision logs and counter ({@link #IDENTITY_FORMAT}); the xDS server refuses a node whose metadata
     * names another identity than its certificate (SidecarIdentity), so what Envoy logs is the proven identity.
     */
    public static final String META_NAMESPACE = "namespace";

    public static final String META_SERVICE_ACCOUNT = "service_account";
    public static final String META_POD_NAME = "pod_name";

    /**
     * The sidecar's identity ({@code namespace/serviceaccount}) as an Envoy substitution format string, read by
     * Envoy from its own node metadata: the decision log's {@code identity} field and the decision counter's
     * {@code identity} tag use it. Why not the identity as a literal: then no two identities' xDS resources would
     * be equal, and identities whose policies are equal could not share one build (and one version) of their
     * config. This is the one rule saying which metadata keys carry the identity.
     */
    public static final String IDENTITY_FORMAT = "%CEL(xds.node.metadata['" + META_NAMESPACE
            + "'])%/%CEL(xds.node.metadata['" + META_SERVICE_ACCOUNT + "'])%";

    // Short so that a sidecar started before the xDS server is reachable retries quickly, and so
    // that a control plane whose host vanished (no RST) costs at most a second before the next one.
    private static final Duration CONNECT_TIMEOUT =
            Duration.newBuilder().setSeconds(1).build();

    // How soon Envoy re-opens the ADS stream after it broke. Envoy's default for xDS streams is
    // 0.5 s doubling up to 30 s (jittered): after a control-plane restart, sidecars took up to
    // 28.6 s to come back, and a policy change made meanwhile waited that long. Capped at 1 s they
    // reconnect in 1-2 s. Fail-static makes waiting safe (Envoy keeps enforcing its last config), so
    // the cost is only one connection attempt per sidecar per second while no control plane is up.
    private static final RetryPolicy ADS_RECONNECT = RetryPolicy.newBuilder()
            .setRetryBackOff(BackoffStrategy.newBuilder()
                    .setBaseInterval(Duration.newBuilder().setNanos(250_000_000))
                    .setMaxInterval(Duration.newBuilder().setSeconds(1)))
            .build();

    // Kernel defaults (2h idle) are far longer than the idle timeouts of cloud NATs and load
    // balancers (~350s), which would silently drop the long-lived ADS stream; probe after 5 minutes.
    private static final TcpKeepalive KEEPALIVE = TcpKeepalive.newBuilder()
            .setKeepaliveTime(UInt32Value.of(300))
            .setKeepaliveInterval(UInt32Value.of(30))
            .setKeepaliveProbes(UInt32Value.of(3))
            .build();

    /** Every type the bootstrap packs into an Any, for whoever prints or parses it as JSON. */
    public static final JsonFormat.TypeRegistry TYPES = JsonFormat.TypeRegistry.newBuilder()
            .add(HttpProtocolOptions.getDescriptor())
            .add(UpstreamTlsContext.getDescriptor())
            .add(HttpConnectionManager.getDescriptor())
            .add(Router.getDescriptor())
            .build();

    private static final JsonFormat.Printer JSON = JsonFormat.printer()
            .usingTypeRegistry(TYPES)
            // snake_case as in Envoy's documentation and examples; Envoy accepts either.
            .preservingProtoFieldNames();

    // Every string value is quoted: unquoted, a namespace named "on" or a pod named "1e3" would be
    // read back by Envoy's YAML loader as a bool or a number inside the node metadata.
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .disable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build());

    public SidecarBootstrap {
        Objects.requireNonNull(node, "node must not be null");
        xdsEndpoints = List.copyOf(Objects.requireNonNull(xdsEndpoints, "xdsEndpoints must not be null"));
        Objects.requireNonNull(xdsCertificates, "xdsCertificates must not be null (use Optional.empty())");
        Objects.requireNonNull(adminAddress, "adminAddress must not be null");
        if (xdsEndpoints.isEmpty()) {
            throw new IllegalArgumentException("at least one xDS endpoint is needed");
        }
        var seen = new HashSet<XdsEndpoint>();
        for (XdsEndpoint endpoint : xdsEndpoints) {
            if (!seen.add(endpoint)) {
                // Listed twice, it would take two round-robin turns, so failover would retry the same host.
                throw new IllegalArgumentException("xDS endpoint " + endpoint + " is listed twice");
            }
        }
        requirePort("adminPort", adminPort);
        var admin = IpLiterals.parse(adminAddress)
                .orElseThrow(() -> new IllegalArgumentException(
                        "adminAddress '" + adminAddress + "' must be a loopback IP literal such as 127.0.0.1 or ::1"));
        if (!admin.isLoopbackAddress()) {
            throw new IllegalArgumentException("adminAddress '" + adminAddress
                    + "' is not loopback: Envoy's admin API must never be reachable from outside the pod");
        }
    }

    /** Several control planes, plaintext xDS. */
    public SidecarBootstrap(SidecarNodeId node, List<XdsEndpoint> xdsEndpoints, int adminPort, String adminAddress) {
        this(node, xdsEndpoints, adminPort, adminAddress, Optional.empty());
    }

    /** One control plane, plaintext xDS. */
    public SidecarBootstrap(SidecarNodeId node, String xdsHost, int xdsPort, int adminPort, String adminAddress) {
        this(node, List.of(new XdsEndpoint(xdsHost, xdsPort)), adminPort, adminAddress);
    }

    /** One control plane, admin on 127.0.0.1:15000. */
    public static SidecarBootstrap of(SidecarNodeId node, String xdsHost, int xdsPort) {
        return new SidecarBootstrap(node, xdsHost, xdsPort, DEFAULT_ADMIN_PORT, DEFAULT_ADMIN_ADDRESS);
    }

    /** Several control planes, admin on 127.0.0.1:15000. */
    public static SidecarBootstrap of(SidecarNodeId node, List<XdsEndpoint> xdsEndpoints) {
        return new SidecarBootstrap(node, xdsEndpoints, DEFAULT_ADMIN_PORT, DEFAULT_ADMIN_ADDRESS);
    }

    /** True when the xDS cluster is STATIC (IP literals only), false when it is STRICT_DNS. */
    public boolean xdsHostsAreIpLiterals() {
        return xdsEndpoints.stream().allMatch(XdsEndpoint::isIpLiteral);
    }

    /** The same bootstrap, talking to the xDS servers over mutual TLS with the certificates in {@code dir}. */
    public SidecarBootstrap withXdsCertificates(CertificateDirectory dir) {
        return new SidecarBootstrap(node, xdsEndpoints, adminPort, adminAddress, Optional.of(dir));
    }

    public Bootstrap toProto() {
        return Bootstrap.newBuilder()
                .setNode(nodeProto())
                .setDynamicResources(dynamicResources())
                .setStaticResources(Bootstrap.StaticResources.newBuilder()
                        .addClusters(xdsCluster())
                        .addClusters(adminCluster())
                        .addListeners(healthListener()))
                .setAdmin(Admin.newBuilder().setAddress(socket(adminAddress, adminPort)))
                .setLayeredRuntime(runtime())
                .build();
    }

    /**
     * The name of the runtime layer the control plane serves over RTDS, and of the one Runtime resource in it:
     * the MeshConfig's settings that change at run time without touching a listener (today
     * {@link SidecarContract#DECISION_SAMPLE_RUNTIME_KEY}).
     */
    public static final String RTDS_LAYER = "portcullis_mesh_config";

    /** The layer an operator writes with the admin API's {@code /runtime_modify}; it overrides every other. */
    public static final String ADMIN_LAYER = "portcullis_admin_override";

    /**
     * The static layer of {@link SidecarContract}'s runtime settings (the regex program-size limit): the one layer
     * that decides whether Envoy accepts a config. Public for the tests that validate translated configs with
     * {@code envoy --mode validate} without a node or control plane, which the RTDS layer of {@link #runtime()}
     * would need.
     */
    public static RuntimeLayer contractLayer() {
        return RuntimeLayer.newBuilder()
                .setName("portcullis_sidecar_contract")
                .setStaticLayer(Struct.newBuilder()
                        .putFields(
                                SidecarContract.REGEX_PROGRAM_SIZE_RUNTIME_KEY,
                                Value.newBuilder()
                                        .setNumberValue(SidecarContract.REGEX_MAX_PROGRAM_SIZE)
                                        .build()))
                .build();
    }

    /**
     * The sidecar's layered runtime, later layers overriding earlier ones: the settings of {@link SidecarContract}
     * as a static layer, then {@link #RTDS_LAYER} from the control plane, then the admin layer, so an operator can
     * still override a key on one sidecar ({@code curl -X POST 'localhost:15000/runtime_modify?key=value'}) until
     * it restarts. Public so that tests which build their own bootstrap validate xDS under the same limits as a
     * real sidecar.
     *
     * <p>What Envoy (1.40) does when the RTDS layer does not arrive: it subscribes after its static clusters are
     * up and starts CDS (then LDS) only once every RTDS layer arrived or its {@code initial_fetch_timeout} (here
     * the default, 15 s) ran out ({@code onClusterManagerPrimaryInitializationComplete} waits for
     * {@code startRtdsSubscriptions}). Either way it fails closed: until the listeners come over LDS nothing
     * listens on the outbound port, so the workload's intercepted connections are refused; and with the layer
     * missing the sampling filters fall back to their default (0 %, refusals only), which changes what is
     * logged, never what is allowed. Readiness ({@code /ready}) stays false meanwhile.
     */
    public static LayeredRuntime runtime() {
        return LayeredRuntime.newBuilder()
                .addLayers(contractLayer())
                .addLayers(RuntimeLayer.newBuilder()
                        .setName(RTDS_LAYER)
                        .setRtdsLayer(RuntimeLayer.RtdsLayer.newBuilder()
                                .setName(RTDS_LAYER)
                                .setRtdsConfig(ConfigSource.newBuilder()
                                        .setResourceApiVersion(ApiVersion.V3)
                                        // Its own stream, not ADS: java-control-plane's ADS knows no runtime
                                        // type; same cluster, so the same mutual TLS and identity check.
                                        .setApiConfigSource(ApiConfigSource.newBuilder()
                                                .setApiType(ApiConfigSource.ApiType.GRPC)
                                                .setTransportApiVersion(ApiVersion.V3)
                                                .addGrpcServices(GrpcService.newBuilder()
                                                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                                                                .setClusterName(XDS_CLUSTER)
                                                                .setRetryPolicy(ADS_RECONNECT)))
                                                // The server checks the node of every request, as on ADS.
                                                .setSetNodeOnFirstMessageOnly(false)))))
                .addLayers(RuntimeLayer.newBuilder()
                        .setName(ADMIN_LAYER)
                        .setAdminLayer(RuntimeLayer.AdminLayer.getDefaultInstance()))
                .build();
    }

    public String toJson() {
        try {
            return JSON.print(toProto()) + "\n";
        } catch (InvalidProtocolBufferException e) {
            // Only possible if an Any's type were missing from the registry: a bug here, not bad input.
            throw new IllegalStateException("cannot print bootstrap as JSON", e);
        }
    }

    public String toYaml() {
        try {
            return YAML.writeValueAsString(YAML.readTree(toJson()));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot convert bootstrap JSON to YAML", e);
        }
    }

    private Node nodeProto() {
        return node(node);
    }

    /**
     * The node a sidecar announces on its ADS stream: its id, cluster and metadata. Every client of the xDS server
     * must send the metadata: the server refuses a node whose identity keys are missing or differ from its
     * certificate, since the sidecar's decision logs read them ({@link #IDENTITY_FORMAT}).
     */
    public static Node node(SidecarNodeId id) {
        return Node.newBuilder()
                .setId(id.nodeId())
                .setCluster(id.nodeCluster())
                .setMetadata(Struct.newBuilder()
                        .putFields(META_NAMESPACE, string(id.namespace()))
                        .putFields(META_SERVICE_ACCOUNT, string(id.serviceAccount()))
                        .putFields(META_POD_NAME, string(id.podName())))
                .build();
    }

    private static Bootstrap.DynamicResources dynamicResources() {
        // One ADS stream carries both CDS and LDS so Envoy sees clusters and listeners in a consistent order.
        ConfigSource viaAds = ConfigSource.newBuilder()
                .setAds(AggregatedConfigSource.getDefaultInstance())
                .setResourceApiVersion(ApiVersion.V3)
                .build();
        return Bootstrap.DynamicResources.newBuilder()
                .setAdsConfig(ApiConfigSource.newBuilder()
                        .setApiType(ApiConfigSource.ApiType.GRPC)
                        .setTransportApiVersion(ApiVersion.V3)
                        .addGrpcServices(GrpcService.newBuilder()
                                .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                                        .setClusterName(XDS_CLUSTER)
                                        // Documented as "only supported for xDS gRPC streams": exactly this stream.
                                        .setRetryPolicy(ADS_RECONNECT)))
                        // java-control-plane picks the snapshot from the node of every request, so the node
                        // must be on every request, not only on the first of a stream.
                        .setSetNodeOnFirstMessageOnly(false))
                .setCdsConfig(viaAds)
                .setLdsConfig(viaAds)
                .build();
    }

    /**
     * The control planes, each an endpoint of one cluster. Failover needs nothing more: the ADS
     * stream is one long gRPC call, and when it breaks (the control plane died: its kernel resets
     * the connection) Envoy opens a new one after {@link #ADS_RECONNECT}'s back-off, and the
     * cluster's default round-robin load balancer picks the next endpoint for it. A dead endpoint
     * costs one refused connection (or {@link #CONNECT_TIMEOUT} if its host vanished) and round
     * robin moves on, so a second endpoint is reached within a back-off or two. Health checks or
     * outlier detection would only spare that one attempt, and would need a health service on the
     * control plane or several failures to eject, so there are none. The control planes serve the
     * same versions for the same config (a digest of the content), so the survivor sends nothing
     * unless the config changed.
     */
    private Cluster xdsCluster() {
        // STRICT_DNS re-resolves a Service name, following the xDS server when its address changes;
        // a name resolving to several addresses (headless Service) gives several endpoints.
        Cluster.DiscoveryType type =
                xdsHostsAreIpLiterals() ? Cluster.DiscoveryType.STATIC : Cluster.DiscoveryType.STRICT_DNS;
        LocalityLbEndpoints.Builder endpoints = LocalityLbEndpoints.newBuilder();
        for (XdsEndpoint xds : xdsEndpoints) {
            endpoints.addLbEndpoints(LbEndpoint.newBuilder()
                    .setEndpoint(Endpoint.newBuilder().setAddress(socket(xds.host(), xds.port()))));
        }
        // xDS is gRPC, so the upstream connection must speak HTTP/2.
        HttpProtocolOptions http2 = HttpProtocolOptions.newBuilder()
                .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                        .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
                .build();
        Cluster.Builder cluster = Cluster.newBuilder()
                .setName(XDS_CLUSTER)
                .setType(type)
                .setConnectTimeout(CONNECT_TIMEOUT)
                .setLoadAssignment(ClusterLoadAssignment.newBuilder()
                        .setClusterName(XDS_CLUSTER)
                        .addEndpoints(endpoints))
                .putTypedExtensionProtocolOptions(
                        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(http2))
                .setUpstreamConnectionOptions(
                        UpstreamConnectionOptions.newBuilder().setTcpKeepalive(KEEPALIVE));
        xdsCertificates.ifPresent(certs -> cluster.setTransportSocket(TransportSocket.newBuilder()
                .setName("envoy.transport_sockets.tls")
                .setTypedConfig(Any.pack(xdsTls(certs)))));
        return cluster.build();
    }

    /**
     * Mutual TLS to the xDS server. The server learns the sidecar's identity from the workload
     * certificate; the sidecar accepts only a server certificate from the mesh CA that names the
     * host it dialled, so a stranger on the path cannot feed it config.
     */
    private UpstreamTlsContext xdsTls(CertificateDirectory certs) {
        // One TLS context serves every endpoint of the cluster: a server certificate naming any of the
        // listed hosts is accepted (Envoy accepts a certificate when any SAN matcher matches).
        CertificateValidationContext.Builder names = CertificateValidationContext.newBuilder();
        var hostNames = new TreeSet<String>();
        var matched = new HashSet<String>();
        for (XdsEndpoint xds : xdsEndpoints) {
            String host = xds.host().endsWith(".")
                    ? xds.host().substring(0, xds.host().length() - 1)
                    : xds.host();
            if (!matched.add(host)) {
                continue; // the same host on another port
            }
            names.addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
                    .setSanType(
                            xds.isIpLiteral()
                                    ? SubjectAltNameMatcher.SanType.IP_ADDRESS
                                    : SubjectAltNameMatcher.SanType.DNS)
                    .setMatcher(StringMatcher.newBuilder().setExact(host)));
            if (!xds.isIpLiteral()) {
                hostNames.add(host);
            }
        }
        UpstreamTlsContext.Builder tls = UpstreamTlsContext.newBuilder()
                .setCommonTlsContext(CommonTlsContext.newBuilder()
                        // gRPC servers insist on ALPN h2.
                        .addAlpnProtocols("h2")
                        .addTlsCertificateSdsSecretConfigs(certs.tlsCertificateSds())
                        .setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                                .setDefaultValidationContext(names)
                                .setValidationContextSdsSecretConfig(certs.validationContextSds())));
        // SNI is one name per cluster: sent when the endpoints share one DNS name (the usual Service).
        if (hostNames.size() == 1) {
            tls.setSni(hostNames.first());
        }
        return tls.build();
    }

    /** Envoy's command line: {@code -c bootstrapFile} and {@link #ENVOY_FLAGS}, without the binary. */
    public static List<String> envoyArguments(String bootstrapFile) {
        var args = new java.util.ArrayList<>(List.of("-c", bootstrapFile));
        args.addAll(ENVOY_FLAGS);
        return List.copyOf(args);
    }

    /**
     * {@code GET /ready} on {@link SidecarContract#HEALTH_PORT}, forwarded to the admin API, which stays
     * on loopback: a kubelet probes from outside the pod's loopback. Only that one path is forwarded, so the
     * admin API's other endpoints (config dump, shutdown) are not reachable through it.
     */
    private static Listener healthListener() {
        RouteConfiguration routes = RouteConfiguration.newBuilder()
                .setName(HEALTH_LISTENER)
                .addVirtualHosts(VirtualHost.newBuilder()
                        .setName(HEALTH_LISTENER)
                        .addDomains("*")
                        .addRoutes(Route.newBuilder()
                                .setMatch(RouteMatch.newBuilder().setPath(SidecarContract.READINESS_PATH))
                                .setRoute(RouteAction.newBuilder().setCluster(ADMIN_CLUSTER)))
                        .addRoutes(Route.newBuilder()
                                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                                .setDirectResponse(
                                        DirectResponseAction.newBuilder().setStatus(404))))
                .build();
        HttpConnectionManager http = HttpConnectionManager.newBuilder()
                .setStatPrefix(HEALTH_LISTENER)
                .setRouteConfig(routes)
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName("envoy.filters.http.router")
                        .setTypedConfig(Any.pack(Router.getDefaultInstance())))
                .build();
        return Listener.newBuilder()
                .setName(HEALTH_LISTENER)
                .setAddress(socket("0.0.0.0", SidecarContract.HEALTH_PORT))
                .addFilterChains(FilterChain.newBuilder()
                        .addFilters(Filter.newBuilder()
                                .setName("envoy.filters.network.http_connection_manager")
                                .setTypedConfig(Any.pack(http))))
                .build();
    }

    private Cluster adminCluster() {
        return Cluster.newBuilder()
                .setName(ADMIN_CLUSTER)
                .setType(Cluster.DiscoveryType.STATIC)
                .setConnectTimeout(CONNECT_TIMEOUT)
                .setLoadAssignment(ClusterLoadAssignment.newBuilder()
                        .setClusterName(ADMIN_CLUSTER)
                        .addEndpoints(LocalityLbEndpoints.newBuilder()
                                .addLbEndpoints(LbEndpoint.newBuilder()
                                        .setEndpoint(
                                                Endpoint.newBuilder().setAddress(socket(adminAddress, adminPort))))))
                .build();
    }

    private static Address socket(String host, int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
                .build();
    }

    private static Value string(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    private static void requirePort(String what, int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + " " + port + " is outside 1-65535");
        }
    }
}
