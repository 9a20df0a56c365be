package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Status;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An ADS client that behaves like Envoy's state-of-the-world ADS: CDS and LDS wildcard, RDS for the route
 * tables its listeners name, every response ACKed with its version and nonce, or NACKed (naming the version
 * it still runs) when the test says so. Responses are kept in arrival order for the test to read.
 */
final class EnvoyLikeAdsClient implements AutoCloseable {

    static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String RDS = Resources.V3.ROUTE_TYPE_URL;

    private final Node node;
    private final StreamObserver<DiscoveryRequest> requests;
    private final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
    /** Guarded by this: what the client runs per type, the last nonce per type, the route tables it asks for. */
    private final Map<String, String> accepted = new HashMap<>();

    private final Map<String, String> nonces = new HashMap<>();
    private Set<String> routeNames = Set.of();
    private Predicate<DiscoveryResponse> reject = response -> false;

    EnvoyLikeAdsClient(ManagedChannel channel, String nodeId) {
        node = SidecarBootstrap.node(SidecarNodeId.parse(nodeId));
        requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse response) {
                answer(response);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
        synchronized (this) {
            requests.onNext(request(CDS, List.of()).build());
            requests.onNext(request(LDS, List.of()).build());
        }
    }

    /** From now on, NACK the responses this matches (Envoy's error_detail: "rejected by the test"). */
    synchronized void rejectWhen(Predicate<DiscoveryResponse> which) {
        reject = which;
    }

    /** The next response within 10 s, in the order the server sent them. */
    DiscoveryResponse next() throws InterruptedException {
        DiscoveryResponse response = responses.poll(10, TimeUnit.SECONDS);
        assertThat(response).as("a response within 10 s").isNotNull();
        return response;
    }

    /** The responses that arrive up to and including the first of {@code typeUrl}. */
    List<DiscoveryResponse> untilFirst(String typeUrl) throws InterruptedException {
        List<DiscoveryResponse> seen = new ArrayList<>();
        DiscoveryResponse response;
        do {
            response = next();
            seen.add(response);
        } while (!response.getTypeUrl().equals(typeUrl));
        return seen;
    }

    /** Responses received and not yet read. */
    List<DiscoveryResponse> unread() {
        List<DiscoveryResponse> rest = new ArrayList<>();
        responses.drainTo(rest);
        return rest;
    }

    synchronized String accepted(String typeUrl) {
        return accepted.get(typeUrl);
    }

    private synchronized void answer(DiscoveryResponse response) {
        String type = response.getTypeUrl();
        nonces.put(type, response.getNonce());
        List<String> names = type.equals(RDS) ? List.copyOf(routeNames) : List.of();
        if (reject.test(response)) {
            requests.onNext(request(type, names)
                    .setVersionInfo(accepted.getOrDefault(type, ""))
                    .setErrorDetail(Status.newBuilder().setCode(13).setMessage("rejected by the test"))
                    .build());
        } else {
            accepted.put(type, response.getVersionInfo());
            requests.onNext(request(type, names)
                    .setVersionInfo(response.getVersionInfo())
                    .build());
            if (type.equals(LDS)) {
                subscribeRoutes(response);
            }
        }
        responses.add(response);
    }

    /** As Envoy does after taking listeners: ask for the route tables they name, if those changed. */
    private void subscribeRoutes(DiscoveryResponse listeners) {
        Set<String> named = new TreeSet<>();
        for (Any resource : listeners.getResourcesList()) {
            try {
                for (FilterChain chain : resource.unpack(Listener.class).getFilterChainsList()) {
                    for (Filter filter : chain.getFiltersList()) {
                        if (filter.getTypedConfig().is(HttpConnectionManager.class)) {
                            HttpConnectionManager hcm = filter.getTypedConfig().unpack(HttpConnectionManager.class);
                            if (hcm.hasRds()) {
                                named.add(hcm.getRds().getRouteConfigName());
                            }
                        }
                    }
                }
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
        // Like Envoy while a removed chain drains, it keeps asking for the old tables until it names new ones.
        if (!named.isEmpty() && !named.equals(routeNames)) {
            routeNames = named;
            requests.onNext(request(RDS, List.copyOf(named))
                    .setVersionInfo(accepted.getOrDefault(RDS, ""))
                    .build());
        }
    }

    private DiscoveryRequest.Builder request(String typeUrl, List<String> names) {
        return DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(typeUrl)
                .addAllResourceNames(names)
                .setResponseNonce(nonces.getOrDefault(typeUrl, ""));
    }

    @Override
    public void close() {
        requests.onCompleted();
    }
}
