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
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TcpKeepalive;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The static Envoy bootstrap a sidecar starts with. It only knows how to reach the xDS server;
 * everything else (the 15001 outbound listener, upstream clusters) arrives over ADS so that policy
 * changes never require restarting the pod.
 *
 * @param adminAddress must be a loopback IP literal: the admin API can reconfigure and shut down
 *     Envoy (and dump its config), so it must never be reachable from the network.
 */
public record SidecarBootstrap(
    SidecarNodeId node, String xdsHost, int xdsPort, int adminPort, String adminAddress) {

  /** Referenced by the ADS config; the xDS server must not hand out a cluster with this name. */
  public static final String XDS_CLUSTER = "xds_cluster";

  public static final String DEFAULT_ADMIN_ADDRESS = "127.0.0.1";
  public static final int DEFAULT_ADMIN_PORT = 15000;

  /** Node metadata keys; informational only, the xDS server trusts {@link SidecarNodeId#parse}. */
  public static final String META_NAMESPACE = "namespace";
  public static final String META_SERVICE_ACCOUNT = "service_account";
  public static final String META_POD_NAME = "pod_name";

  // A host name for STRICT_DNS; a trailing dot (fully qualified, skips the resolv.conf search list) is allowed.
  private static final Pattern HOSTNAME = Pattern.compile(
      "(?i)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\\.?");

  private static final Pattern NUMERIC_TLD = Pattern.compile("(.*\\.)?\\d+\\.?");

  // Short so that a sidecar started before the xDS server is reachable retries quickly.
  private static final Duration CONNECT_TIMEOUT = Duration.newBuilder().setSeconds(1).build();

  // Kernel defaults (2h idle) are far longer than the idle timeouts of cloud NATs and load
  // balancers (~350s), which would silently drop the long-lived ADS stream; probe after 5 minutes.
  private static final TcpKeepalive KEEPALIVE = TcpKeepalive.newBuilder()
      .setKeepaliveTime(UInt32Value.of(300))
      .setKeepaliveInterval(UInt32Value.of(30))
      .setKeepaliveProbes(UInt32Value.of(3))
      .build();

  private static final JsonFormat.Printer JSON = JsonFormat.printer()
      .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
          .add(HttpProtocolOptions.getDescriptor())
          .build())
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
    Objects.requireNonNull(xdsHost, "xdsHost must not be null");
    Objects.requireNonNull(adminAddress, "adminAddress must not be null");
    if (IpLiterals.parse(xdsHost).isEmpty()) {
      if (xdsHost.length() > 253 || !HOSTNAME.matcher(xdsHost).matches()) {
        throw new IllegalArgumentException(
            "xdsHost '" + xdsHost + "' is neither an IP literal nor a DNS host name");
      }
      // "10.0.0.256" matches the host-name grammar; without this it would become a DNS lookup.
      if (NUMERIC_TLD.matcher(xdsHost).matches()) {
        throw new IllegalArgumentException(
            "xdsHost '" + xdsHost + "' looks like a malformed IP address, not a DNS host name");
      }
    }
    requirePort("xdsPort", xdsPort);
    requirePort("adminPort", adminPort);
    var admin = IpLiterals.parse(adminAddress).orElseThrow(() -> new IllegalArgumentException(
        "adminAddress '" + adminAddress + "' must be a loopback IP literal such as 127.0.0.1 or ::1"));
    if (!admin.isLoopbackAddress()) {
      throw new IllegalArgumentException("adminAddress '" + adminAddress
          + "' is not loopback: Envoy's admin API must never be reachable from outside the pod");
    }
  }

  /** Admin on 127.0.0.1:15000. */
  public static SidecarBootstrap of(SidecarNodeId node, String xdsHost, int xdsPort) {
    return new SidecarBootstrap(node, xdsHost, xdsPort, DEFAULT_ADMIN_PORT, DEFAULT_ADMIN_ADDRESS);
  }

  /** True when the xDS cluster is STATIC (IP literal), false when it is STRICT_DNS. */
  public boolean xdsHostIsIpLiteral() {
    return IpLiterals.parse(xdsHost).isPresent();
  }

  public Bootstrap toProto() {
    return Bootstrap.newBuilder()
        .setNode(nodeProto())
        .setDynamicResources(dynamicResources())
        .setStaticResources(Bootstrap.StaticResources.newBuilder().addClusters(xdsCluster()))
        .setAdmin(Admin.newBuilder().setAddress(socket(adminAddress, adminPort)))
        .setLayeredRuntime(runtime())
        .build();
  }

  /**
   * The runtime settings of {@link SidecarContract}, as one static layer. Public so that tests which
   * build their own bootstrap validate xDS under the same limits as a real sidecar.
   */
  public static LayeredRuntime runtime() {
    return LayeredRuntime.newBuilder()
        .addLayers(RuntimeLayer.newBuilder()
            .setName("portcullis_sidecar_contract")
            .setStaticLayer(Struct.newBuilder()
                .putFields(SidecarContract.REGEX_PROGRAM_SIZE_RUNTIME_KEY,
                    Value.newBuilder().setNumberValue(SidecarContract.REGEX_MAX_PROGRAM_SIZE).build())))
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
    return Node.newBuilder()
        .setId(node.nodeId())
        .setCluster(node.nodeCluster())
        .setMetadata(Struct.newBuilder()
            .putFields(META_NAMESPACE, string(node.namespace()))
            .putFields(META_SERVICE_ACCOUNT, string(node.serviceAccount()))
            .putFields(META_POD_NAME, string(node.podName())))
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
                .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(XDS_CLUSTER)))
            // java-control-plane picks the snapshot from the node of every request, so the node
            // must be on every request, not only on the first of a stream.
            .setSetNodeOnFirstMessageOnly(false))
        .setCdsConfig(viaAds)
        .setLdsConfig(viaAds)
        .build();
  }

  private Cluster xdsCluster() {
    // STRICT_DNS re-resolves a Service name, following the xDS server when its address changes.
    Cluster.DiscoveryType type =
        xdsHostIsIpLiteral() ? Cluster.DiscoveryType.STATIC : Cluster.DiscoveryType.STRICT_DNS;
    // xDS is gRPC, so the upstream connection must speak HTTP/2.
    HttpProtocolOptions http2 = HttpProtocolOptions.newBuilder()
        .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
            .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
        .build();
    return Cluster.newBuilder()
        .setName(XDS_CLUSTER)
        .setType(type)
        .setConnectTimeout(CONNECT_TIMEOUT)
        .setLoadAssignment(ClusterLoadAssignment.newBuilder()
            .setClusterName(XDS_CLUSTER)
            .addEndpoints(LocalityLbEndpoints.newBuilder()
                .addLbEndpoints(LbEndpoint.newBuilder()
                    .setEndpoint(Endpoint.newBuilder().setAddress(socket(xdsHost, xdsPort))))))
        .putTypedExtensionProtocolOptions(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(http2))
        .setUpstreamConnectionOptions(UpstreamConnectionOptions.newBuilder().setTcpKeepalive(KEEPALIVE))
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
