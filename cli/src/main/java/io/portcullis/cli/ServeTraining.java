package io.portcullis.cli;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The training of {@code serve}'s start-up cache ({@link CacheTrainingRun} {@code serve}): a real {@code serve} on
 * a directory of policies, in this JVM, on loopback ports, until its first config is applied, then one
 * sidecar's ADS exchange (clusters, listeners, the route tables they name, each ACKed). What {@code serve}
 * loads and links on that way (the directory source's parallel reads, the control plane and its translation
 * threads, gRPC and Netty, the metrics registry, the debug endpoint) is then in the cache, so a server that
 * starts from it reads and builds sooner: at 10,000 policies a cold JVM spent most of its start loading
 * classes and compiling them. The server is left running; the training run's exit stops it.
 */
final class ServeTraining {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    private static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
    private static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

    private ServeTraining() {}

    /**
     * Serves {@code configDir} and has {@code sidecar} fetch its config; throws when either fails, so a broken
     * install is seen.
     */
    static void run(Path configDir, SidecarNodeId sidecar) throws IOException, InterruptedException {
        int xdsPort = freePort();
        int debugPort = freePort();
        AtomicInteger exit = new AtomicInteger(-1);
        Thread server = Thread.ofPlatform().daemon().name("training-serve").start(() -> {
            String[] args = {
                "serve",
                "--config-dir",
                configDir.toString(),
                "--insecure-plaintext-xds",
                "--xds-address",
                "127.0.0.1",
                "--xds-port",
                Integer.toString(xdsPort),
                "--debug-port",
                Integer.toString(debugPort),
                "--replica-name",
                "training"
            };
            // As main builds it: only the serve subcommand, so the serve cache holds what serve loads.
            exit.set(PortcullisCommand.commandLine(args).execute(args));
        });
        awaitReady(debugPort, server, exit);
        fetchConfig(xdsPort, sidecar);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** serve opens its debug endpoint once the first config is applied. */
    private static void awaitReady(int debugPort, Thread server, AtomicInteger exit) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpRequest healthz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + debugPort + "/healthz"))
                    .timeout(Duration.ofSeconds(5))
                    .build();
            while (System.nanoTime() < deadline) {
                if (!server.isAlive()) {
                    throw new IllegalStateException("serve exited with " + exit.get() + " before it was ready");
                }
                try {
                    if (http.send(healthz, HttpResponse.BodyHandlers.discarding())
                                    .statusCode()
                            == 200) {
                        return;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("serve was not ready within " + TIMEOUT);
    }

    /** Clusters, then listeners, then the route tables they name, each ACKed, as Envoy asks for them. */
    private static void fetchConfig(int xdsPort, SidecarNodeId sidecar) throws InterruptedException {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress(
                        "127.0.0.1", xdsPort, InsecureChannelCredentials.create())
                .build();
        try {
            BlockingQueue<Object> responses = new LinkedBlockingQueue<>();
            StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .streamAggregatedResources(new StreamObserver<>() {
                        @Override
                        public void onNext(DiscoveryResponse response) {
                            responses.add(response);
                        }

                        @Override
                        public void onError(Throwable error) {
                            responses.add(error);
                        }

                        @Override
                        public void onCompleted() {
                            responses.add(new IllegalStateException("the ADS stream ended"));
                        }
                    });
            // As a bootstrapped sidecar announces itself: the server refuses a node without its identity metadata.
            Node node = SidecarBootstrap.node(sidecar);
            DiscoveryResponse clusters = exchange(requests, responses, request(node, CLUSTER, List.of()));
            requests.onNext(ack(node, clusters, List.of()));
            DiscoveryResponse listeners = exchange(requests, responses, request(node, LISTENER, List.of()));
            requests.onNext(ack(node, listeners, List.of()));
            Set<String> routeNames = routeNames(listeners);
            DiscoveryResponse routes = exchange(requests, responses, request(node, ROUTE, routeNames));
            requests.onNext(ack(node, routes, routeNames));
            requests.onCompleted();
        } finally {
            channel.shutdownNow();
        }
    }

    private static DiscoveryResponse exchange(
            StreamObserver<DiscoveryRequest> requests, BlockingQueue<Object> responses, DiscoveryRequest request)
            throws InterruptedException {
        requests.onNext(request);
        Object next = responses.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (next instanceof DiscoveryResponse response && response.getTypeUrl().equals(request.getTypeUrl())) {
            return response;
        }
        throw new IllegalStateException(
                "serve did not answer " + request.getTypeUrl() + " within " + TIMEOUT + ": " + next,
                next instanceof Throwable t ? t : null);
    }

    private static DiscoveryRequest request(Node node, String type, Iterable<String> names) {
        return DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(type)
                .addAllResourceNames(names)
                .build();
    }

    private static DiscoveryRequest ack(Node node, DiscoveryResponse response, Iterable<String> names) {
        return request(node, response.getTypeUrl(), names).toBuilder()
                .setVersionInfo(response.getVersionInfo())
                .setResponseNonce(response.getNonce())
                .build();
    }

    private static Set<String> routeNames(DiscoveryResponse listeners) {
        Set<String> names = new TreeSet<>();
        try {
            for (Any resource : listeners.getResourcesList()) {
                Listener listener = resource.unpack(Listener.class);
                for (FilterChain chain : listener.getFilterChainsList()) {
                    for (Filter filter : chain.getFiltersList()) {
                        if (filter.getTypedConfig().is(HttpConnectionManager.class)) {
                            HttpConnectionManager manager =
                                    filter.getTypedConfig().unpack(HttpConnectionManager.class);
                            if (manager.hasRds()) {
                                names.add(manager.getRds().getRouteConfigName());
                            }
                        }
                    }
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("serve sent a listener that does not parse", e);
        }
        return names;
    }
}
