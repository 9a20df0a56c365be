package io.portcullis.xds;

import io.envoyproxy.controlplane.server.DefaultExecutorGroup;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.portcullis.decisions.DecisionLogReceiver;
import io.portcullis.identity.PeerCertificateInterceptor;
import io.portcullis.identity.XdsServerTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC server sidecars connect to: the Aggregated Discovery Service (ADS), the Runtime Discovery Service
 * (RTDS, {@link RuntimeDiscovery}: the MeshConfig's run-time values), and Envoy's Access Log
 * Service, over which they report their egress decisions ({@link DecisionLogReceiver}) on the same
 * connection. Over mutual TLS, a sidecar's identity is the SPIFFE ID of its client certificate (see
 * SidecarIdentity), for both services; the plaintext form trusts node ids and is for in-process tests and
 * the loopback-only development flag.
 *
 * <p>Calls run on a fixed pool ({@link #callThreads()}), not gRPC's default of one thread per busy call: a
 * sidecar's stream costs its buffers, not a parked thread. Nothing that runs there may wait long (a pool this
 * small would stall every sidecar): the stream callbacks only read published state and hand translations to the
 * control plane's translation threads (see EgressControlPlane).
 */
public final class XdsServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(XdsServer.class);

    private final Server server;
    private final ExecutorService calls;

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
        V3DiscoveryServer discovery = new V3DiscoveryServer(
                List.of(registry), controlPlane.configWatcher(), new DefaultExecutorGroup(), new PackedResources());
        this.calls = Executors.newFixedThreadPool(callThreads(), callThreadFactory());
        this.server = builder.executor(calls)
                .withChildOption(ChannelOption.ALLOCATOR, connectionBuffers())
                .addService(ServerInterceptors.intercept(discovery.getAggregatedDiscoveryServiceImpl(), peers))
                // RTDS beside ADS, behind the same interceptor: the same certificate proof for the same identity.
                .addService(ServerInterceptors.intercept(controlPlane.runtimeDiscovery(), peers))
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
        LOG.info(
                "xDS (ADS, RTDS) and the decision log (access log service) listening on {}", server.getListenSockets());
        return this;
    }

    public int port() {
        return server.getPort();
    }

    /** How many threads run gRPC calls: one per core, at least four (callbacks are short and never block). */
    public static int callThreads() {
        return Math.max(4, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Where the sidecars' connections take their buffers from: Netty's pooled allocator as gRPC configures it
     * (direct memory, 2 MiB chunks), with fewer arenas. gRPC's default has two direct arenas per core, and each
     * arena a thread touches keeps at least one 2 MiB chunk for good: 8 MiB of RSS on 2 cores after a connect
     * storm (Native Memory Tracking, "Other"), where one arena held all of it in 2 MiB. Arenas exist so that
     * threads allocating at once do not wait on each other; xDS traffic is a few small requests and bursts of
     * responses, and the event loop threads keep their own caches in front of the arena, so one arena per two
     * cores is plenty. Direct or heap as gRPC decides (direct wherever Netty can free it); arenas of the other
     * kind: none, as gRPC's own allocator (a rare buffer of that kind is then unpooled).
     */
    static PooledByteBufAllocator connectionBuffers() {
        int arenas = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        boolean direct = PooledByteBufAllocator.defaultPreferDirect();
        int twoMebibyteChunks = 8; // maxOrder: chunks of pageSize << 8 (8 KiB << 8 = 2 MiB), as gRPC's allocator
        return new PooledByteBufAllocator(
                direct,
                direct ? 0 : arenas,
                direct ? arenas : 0,
                PooledByteBufAllocator.defaultPageSize(),
                twoMebibyteChunks,
                PooledByteBufAllocator.defaultSmallCacheSize(),
                PooledByteBufAllocator.defaultNormalCacheSize(),
                PooledByteBufAllocator.defaultUseCacheForAllThreads());
    }

    @Override
    public void close() {
        server.shutdownNow();
        calls.shutdownNow();
    }

    private static ThreadFactory callThreadFactory() {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, "portcullis-xds-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
