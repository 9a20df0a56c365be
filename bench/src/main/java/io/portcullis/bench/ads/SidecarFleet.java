package io.portcullis.bench.ads;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.portcullis.bench.MeshShape;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.input.ServiceAccountRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * Every sidecar of a {@link MeshShape}, each with its own connection (as every Envoy has), all in this
 * JVM: two Netty event-loop threads carry every stream and handle every response (the handling is an ACK
 * and, for listeners, reading the route names), one thread schedules reconnects. A thousand streams cost
 * a few megabytes, not a thousand threads, so the client does not crowd out the server it measures.
 */
final class SidecarFleet implements AutoCloseable {

    private static final int MAX_MESSAGE_BYTES = 64 << 20;

    private final MeshShape shape;
    private final BenchClock clock;
    private final EventLoopGroup eventLoops = new NioEventLoopGroup(2);
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "sidecar-reconnect");
        thread.setDaemon(true);
        return thread;
    });
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<SimulatedSidecar> sidecars = new ArrayList<>();
    private final ResponseNames names = new ResponseNames();

    SidecarFleet(MeshShape shape, int xdsPort, BenchClock clock) {
        this.shape = shape;
        this.clock = clock;
        for (int identity = 0; identity < shape.identities(); identity++) {
            ServiceAccountRef account = shape.identity(identity);
            for (int pod = 0; pod < shape.podsPerIdentity(); pod++) {
                ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", xdsPort)
                        .usePlaintext()
                        .eventLoopGroup(eventLoops)
                        .channelType(NioSocketChannel.class)
                        .directExecutor()
                        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                        .build();
                channels.add(channel);
                SidecarNodeId id =
                        new SidecarNodeId(account.namespace(), account.name(), account.name() + "-pod-" + pod);
                sidecars.add(new SimulatedSidecar(id, channel, retries, clock, names));
            }
        }
    }

    int size() {
        return sidecars.size();
    }

    /** The sidecars of identity {@code identity} (its pods). */
    List<SimulatedSidecar> ofIdentity(int identity) {
        int pods = shape.podsPerIdentity();
        return sidecars.subList(identity * pods, (identity + 1) * pods);
    }

    List<SimulatedSidecar> all() {
        return sidecars;
    }

    void startAll() {
        sidecars.forEach(SimulatedSidecar::start);
    }

    void stopAll() {
        sidecars.forEach(SimulatedSidecar::stop);
    }

    /** First and last moment a sidecar of {@code group} became configured, once all are. */
    record Span(long firstNanos, long lastNanos) {}

    /** Waits until every sidecar holds a complete config served on its current stream. */
    Span awaitConfigured(List<SimulatedSidecar> group, Duration timeout) throws InterruptedException, TimeoutException {
        awaitAll(group, s -> s.configuredNanos() != 0, timeout, "configured");
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (SimulatedSidecar sidecar : group) {
            first = Math.min(first, sidecar.configuredNanos());
            last = Math.max(last, sidecar.configuredNanos());
        }
        return new Span(first, last);
    }

    /**
     * Waits until each sidecar of {@code group} got a response after {@code before} (its response count from
     * {@link #responseCounts}) and {@code has} it and then no sidecar of the fleet got one for {@code quiet}; returns the last
     * response time over {@code group}: when the last of them had the whole change, however many responses
     * (CDS, LDS, RDS) the server split it into.
     */
    long awaitChange(
            List<SimulatedSidecar> group,
            int[] before,
            Predicate<SimulatedSidecar> has,
            Duration quiet,
            Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = clock.nanos() + timeout.toNanos();
        while (true) {
            boolean all = true;
            for (int i = 0; i < group.size() && all; i++) {
                all = group.get(i).responses() > before[i] && has.test(group.get(i));
            }
            if (all) {
                break;
            }
            if (clock.nanos() > deadline) {
                throw new TimeoutException("not every sidecar got the change within " + timeout);
            }
            Thread.sleep(5);
        }
        while (clock.nanos() - lastResponseOfFleet() < quiet.toNanos()) {
            Thread.sleep(10);
        }
        long last = Long.MIN_VALUE;
        for (SimulatedSidecar sidecar : group) {
            last = Math.max(last, sidecar.lastResponseNanos());
        }
        return last;
    }

    int[] responseCounts(List<SimulatedSidecar> group) {
        int[] counts = new int[group.size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = group.get(i).responses();
        }
        return counts;
    }

    /** Waits until no sidecar got a response for {@code quiet}. */
    void awaitQuiet(Duration quiet) throws InterruptedException {
        while (clock.nanos() - lastResponseOfFleet() < quiet.toNanos()) {
            Thread.sleep(10);
        }
    }

    private long lastResponseOfFleet() {
        long last = 0;
        for (SimulatedSidecar sidecar : sidecars) {
            last = Math.max(last, sidecar.lastResponseNanos());
        }
        return last;
    }

    private void awaitAll(List<SimulatedSidecar> group, Predicate<SimulatedSidecar> done, Duration timeout, String what)
            throws InterruptedException, TimeoutException {
        long deadline = clock.nanos() + timeout.toNanos();
        while (true) {
            long missing = group.stream().filter(done.negate()).count();
            if (missing == 0) {
                return;
            }
            if (clock.nanos() > deadline) {
                throw new TimeoutException(
                        missing + " of " + group.size() + " sidecars not " + what + " within " + timeout);
            }
            Thread.sleep(5);
        }
    }

    @Override
    public void close() {
        stopAll();
        channels.forEach(ManagedChannel::shutdownNow);
        retries.shutdownNow();
        var unused = eventLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
