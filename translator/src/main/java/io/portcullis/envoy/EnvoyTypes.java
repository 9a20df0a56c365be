package io.portcullis.envoy;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig;
import io.envoyproxy.envoy.extensions.filters.http.dynamic_forward_proxy.v3.PerRouteConfig;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;

/** Packs typed configs and prints our resources as JSON, the form Envoy's config dump uses. */
public final class EnvoyTypes {

    /** Every type that can appear inside an {@code Any} in what we generate. */
    public static final JsonFormat.TypeRegistry REGISTRY = JsonFormat.TypeRegistry.newBuilder()
            .add(Listener.getDescriptor())
            .add(Cluster.getDescriptor())
            .add(RouteConfiguration.getDescriptor())
            .add(OriginalDst.getDescriptor())
            .add(TlsInspector.getDescriptor())
            .add(TcpProxy.getDescriptor())
            .add(HttpConnectionManager.getDescriptor())
            .add(Router.getDescriptor())
            .add(StdoutAccessLog.getDescriptor())
            .add(io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig.getDescriptor())
            .add(io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig.getDescriptor())
            .add(io.envoyproxy.envoy.extensions.filters.http.set_metadata.v3.Config.getDescriptor())
            .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
            .add(ClusterConfig.getDescriptor())
            .add(PerRouteConfig.getDescriptor())
            .add(io.envoyproxy.envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig.getDescriptor())
            .add(
                    io.envoyproxy.envoy.extensions.filters.network.sni_dynamic_forward_proxy.v3.FilterConfig
                            .getDescriptor())
            .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor())
            .add(io.envoyproxy.envoy.extensions.filters.network.set_filter_state.v3.Config.getDescriptor())
            .build();

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().usingTypeRegistry(REGISTRY);

    private EnvoyTypes() {}

    public static Any pack(Message message) {
        return Any.pack(message);
    }

    public static String toJson(Message message) {
        try {
            return PRINTER.print(message);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException("type missing from EnvoyTypes.REGISTRY: " + e.getMessage(), e);
        }
    }
}
