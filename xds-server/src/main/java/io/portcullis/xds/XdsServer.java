package io.portcullis.xds;

import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.portcullis.decisions.DecisionLogReceiver;
import io.portcullis.identity.PeerCertificateInterceptor;
import io.portcullis.identity.XdsServerTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC server sidecars connect to: the Aggregated Discovery Service (ADS), and Envoy's Access Log
 * Service, over which they report their egress decisions ({@link DecisionLogReceiver}) on the same
 * connection. Over mutual TLS, a sidecar's identity is the SPIFFE ID of its client certificate (see
 * SidecarIdentity), for both services; the plaintext form trusts node ids and is for in-process tests and
 * the loopback-only development flag.
 */
public final class XdsServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(XdsServer.class);

    private final Server server;

    /** Plaintext: trusts the node id sidecars send. */
    public XdsServer(InetSocketAddress address, EgressControlPlane controlPlane, SidecarRegistry registry) {
        this(NettyServerBuilder.forAddress(address), PeerCertificateInterceptor.plaintext(), controlPlane, registry);
    }

    /** Mutual TLS: only clients with a certificate from the mesh CA, identified by it. */
    public XdsServer(
            InetSocketAddress address, EgressControlPlane controlPlane, SidecarRegistry registry, XdsServerTls tls) {
        this(
                NettyServerBuilder.forAddress(address).sslContext(tls.sslContext(Clock.systemUTC())),
                tls.interceptor(),
                controlPlane,
                registry);
    }

    private XdsServer(
            NettyServerBuilder builder,
            PeerCertificateInterceptor peers,
            EgressControlPlane controlPlane,
            SidecarRegistry registry) {
        V3DiscoveryServer discovery = new V3DiscoveryServer(registry, controlPlane.configWatcher());
        this.server = builder.addService(
                        ServerInterceptors.intercept(discovery.getAggregatedDiscoveryServiceImpl(), peers))
                .addService(ServerInterceptors.intercept(
                        new DecisionLogReceiver(controlPlane.decisions(), controlPlane.metrics(), Clock.systemUTC()),
                        peers))
                // Sidecars hold one long stream each; keepalives find dead peers behind NAT.
                .permitKeepAliveTime(30, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .build();
    }

    public XdsServer start() throws IOException {
        server.start();
        LOG.info("xDS (ADS) and the decision log (access log service) listening on {}", server.getListenSockets());
        return this;
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
