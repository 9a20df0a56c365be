package io.portcullis.xds;

import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The gRPC server sidecars connect to: Aggregated Discovery Service (ADS) only. */
public final class XdsServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(XdsServer.class);

    private final Server server;

    public XdsServer(InetSocketAddress address, EgressControlPlane controlPlane, SidecarRegistry registry) {
        V3DiscoveryServer discovery = new V3DiscoveryServer(registry, controlPlane.configWatcher());
        this.server = NettyServerBuilder.forAddress(address)
                .addService(discovery.getAggregatedDiscoveryServiceImpl())
                // Sidecars hold one long stream each; keepalives find dead peers behind NAT.
                .permitKeepAliveTime(30, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .build();
    }

    public XdsServer start() throws IOException {
        server.start();
        LOG.info("xDS (ADS) listening on {}", server.getListenSockets());
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
