package io.portcullis.translator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.envoy.EnvoyTypes;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.translator.GoldenCases.GoldenCase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case's xDS, for every identity, must be accepted by the real Envoy. The resources are
 * turned into a static bootstrap: listeners and clusters as {@code static_resources}, and, since a
 * static listener cannot use RDS, each HttpConnectionManager's {@code rds} replaced by the
 * RouteConfiguration of that name inline as {@code route_config} (which also makes Envoy check that
 * every route's cluster exists). Everything else is kept byte-identical.
 *
 * <p>One Envoy run per case: identities whose clusters are identical (the cluster set is fixed today)
 * share a bootstrap, each identity's listener renamed {@code <name>@<identity>} and moved to its own
 * port, the only changes made. The bootstrap carries the sidecars' layered runtime ({@link SidecarBootstrap#runtime()}),
 * so regexes are checked under the same program-size limit as on a real sidecar. Envoy missing FAILS the test
 * (run scripts/install-deps).
 */
@NeedsEnvoy
class EnvoyAcceptsGoldenConfigTest {

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().usingTypeRegistry(EnvoyTypes.REGISTRY);
    private static final AtomicLong ENVOY_NANOS = new AtomicLong();
    private static final AtomicLong ENVOY_RUNS = new AtomicLong();

    @TempDir
    Path dir;

    static Stream<GoldenCase> cases() {
        return GoldenCases.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void envoyAcceptsEveryIdentityOfTheCase(GoldenCase golden) throws IOException {
        SortedMap<ServiceAccountRef, SidecarResources> resources =
                golden.translate().resources();
        assertThat(resources).isNotEmpty();
        int batch = 0;
        for (List<Map.Entry<ServiceAccountRef, SidecarResources>> identities : byClusters(resources)) {
            Path file = write(golden.name() + "-" + batch++ + ".json", staticBootstrap(identities));
            EnvoyProcess.Result result = timedValidate(file);
            assertThat(result.exitCode())
                    .as(
                            "envoy --mode validate rejected %s for %s (%s):%n%s",
                            golden.name(),
                            identities.stream().map(Map.Entry::getKey).toList(),
                            file,
                            result.output())
                    .isZero();
            assertThat(result.output()).contains("OK");
        }
    }

    /** Negative control: a listener with two filter chains of the same match must be rejected. */
    @Test
    void envoyRejectsTwoFilterChainsWithTheSameMatch() throws IOException {
        String json = staticBootstrap(
                httpHostIdentity(),
                listener -> {
                    FilterChain http = listener.getFilterChains(0);
                    assertThat(http.hasFilterChainMatch()).isTrue();
                    return listener.toBuilder()
                            .addFilterChains(http.toBuilder().setName("duplicate_of_" + http.getName()))
                            .build();
                },
                UnaryOperator.identity());

        EnvoyProcess.Result result = timedValidate(write("duplicate-chain.json", json));

        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isNotZero();
        assertThat(result.output()).contains("has the same matching rules defined as");
    }

    /** Negative control: the inlined routes are really checked (a route to a missing cluster is rejected). */
    @Test
    void envoyRejectsARouteToAnUnknownCluster() throws IOException {
        String json = staticBootstrap(httpHostIdentity(), UnaryOperator.identity(), route -> {
            RouteConfiguration.Builder broken = route.toBuilder();
            broken.getVirtualHostsBuilder(0)
                    .getRoutesBuilder(0)
                    .getRouteBuilder()
                    .setCluster("no_such_cluster");
            return broken.build();
        });

        EnvoyProcess.Result result = timedValidate(write("unknown-cluster.json", json));

        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isNotZero();
        assertThat(result.output()).contains("no_such_cluster");
    }

    /** The unmodified control of the two tests above passes, so they fail for the reason they name. */
    @Test
    void theUnmodifiedControlIsAccepted() throws IOException {
        String json = staticBootstrap(httpHostIdentity(), UnaryOperator.identity(), UnaryOperator.identity());
        EnvoyProcess.Result result = timedValidate(write("control.json", json));
        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isZero();
    }

    @AfterAll
    static void reportTime() {
        System.out.printf(
                "EnvoyAcceptsGoldenConfigTest: %d envoy --mode validate runs took %.1f s%n",
                ENVOY_RUNS.get(), ENVOY_NANOS.get() / 1e9);
    }

    // ------------------------------------------------------------------ bootstrap

    private static List<Map.Entry<ServiceAccountRef, SidecarResources>> httpHostIdentity() {
        SortedMap<ServiceAccountRef, SidecarResources> resources =
                GoldenCases.named("http-host").translate().resources();
        assertThat(resources.get(ServiceAccountRef.parse("curl/curl")).routes()).hasSize(1);
        return List.copyOf(resources.entrySet());
    }

    /** Identities that can share one bootstrap: their clusters (shared by name) must be identical. */
    private static List<List<Map.Entry<ServiceAccountRef, SidecarResources>>> byClusters(
            SortedMap<ServiceAccountRef, SidecarResources> resources) {
        Map<List<Cluster>, List<Map.Entry<ServiceAccountRef, SidecarResources>>> groups = new LinkedHashMap<>();
        resources
                .entrySet()
                .forEach(e -> groups.computeIfAbsent(e.getValue().clusters(), k -> new ArrayList<>())
                        .add(e));
        return List.copyOf(groups.values());
    }

    static String staticBootstrap(List<Map.Entry<ServiceAccountRef, SidecarResources>> identities) {
        return staticBootstrap(identities, UnaryOperator.identity(), UnaryOperator.identity());
    }

    /**
     * @param mutateListener applied to each listener after its routes are inlined (negative controls)
     * @param mutateRoute    applied to each RouteConfiguration before it is inlined (negative controls)
     */
    static String staticBootstrap(
            List<Map.Entry<ServiceAccountRef, SidecarResources>> identities,
            UnaryOperator<Listener> mutateListener,
            UnaryOperator<RouteConfiguration> mutateRoute) {
        Bootstrap.StaticResources.Builder statics = Bootstrap.StaticResources.newBuilder()
                .addAllClusters(identities.get(0).getValue().clusters())
                // The decision loggers send to the control plane over the sidecar's xDS cluster, which
                // Envoy requires to exist: add it as a real sidecar's bootstrap has it.
                .addClusters(xdsCluster());
        int listenerIndex = 0;
        for (Map.Entry<ServiceAccountRef, SidecarResources> identity : identities) {
            SidecarResources xds = identity.getValue();
            assertThat(xds.clusters())
                    .as("clusters of %s", identity.getKey())
                    .isEqualTo(identities.get(0).getValue().clusters());
            Map<String, RouteConfiguration> routes = new LinkedHashMap<>();
            for (RouteConfiguration route : xds.routes()) {
                assertThat(routes.put(route.getName(), mutateRoute.apply(route)))
                        .as("%s: two RouteConfigurations named %s", identity.getKey(), route.getName())
                        .isNull();
            }
            TreeSet<String> referenced = new TreeSet<>();
            for (Listener listener : xds.listeners()) {
                Listener inlined = mutateListener.apply(inlineRoutes(identity.getKey(), listener, routes, referenced));
                if (identities.size() > 1) {
                    Listener.Builder renamed = inlined.toBuilder().setName(inlined.getName() + "@" + identity.getKey());
                    renamed.getAddressBuilder()
                            .getSocketAddressBuilder()
                            .setPortValue(
                                    inlined.getAddress().getSocketAddress().getPortValue() + listenerIndex);
                    inlined = renamed.build();
                }
                listenerIndex++;
                statics.addListeners(inlined);
            }
            assertThat(referenced)
                    .as("%s: RouteConfigurations no listener uses", identity.getKey())
                    .isEqualTo(new TreeSet<>(routes.keySet()));
        }
        try {
            // The sidecars' runtime (the regex program-size limit, the RTDS and admin layers) and node, exactly as
            // SidecarBootstrap writes them: Envoy wants a node for an RTDS layer.
            Bootstrap sidecar = sidecarBootstrap();
            return PRINTER.print(Bootstrap.newBuilder()
                    .setNode(sidecar.getNode())
                    .setStaticResources(statics)
                    .setLayeredRuntime(sidecar.getLayeredRuntime())
                    .build());
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("type missing from EnvoyTypes.REGISTRY: " + e.getMessage(), e);
        }
    }

    private static Bootstrap sidecarBootstrap() {
        return SidecarBootstrap.of(new SidecarNodeId("curl", "curl", "curl-0"), "127.0.0.1", 15010)
                .toProto();
    }

    private static Cluster xdsCluster() {
        return sidecarBootstrap().getStaticResources().getClustersList().stream()
                .filter(cluster -> cluster.getName().equals(SidecarBootstrap.XDS_CLUSTER))
                .findFirst()
                .orElseThrow(() -> new AssertionError("the sidecar bootstrap has no " + SidecarBootstrap.XDS_CLUSTER));
    }

    private static Listener inlineRoutes(
            ServiceAccountRef identity,
            Listener listener,
            Map<String, RouteConfiguration> routes,
            SortedSet<String> referenced) {
        Listener.Builder builder = listener.toBuilder();
        for (FilterChain.Builder chain : builder.getFilterChainsBuilderList()) {
            inlineRoutes(identity, chain, routes, referenced);
        }
        if (builder.hasDefaultFilterChain()) {
            inlineRoutes(identity, builder.getDefaultFilterChainBuilder(), routes, referenced);
        }
        return builder.build();
    }

    private static void inlineRoutes(
            ServiceAccountRef identity,
            FilterChain.Builder chain,
            Map<String, RouteConfiguration> routes,
            SortedSet<String> referenced) {
        for (Filter.Builder filter : chain.getFiltersBuilderList()) {
            if (!filter.getTypedConfig().is(HttpConnectionManager.class)) {
                continue;
            }
            HttpConnectionManager hcm;
            try {
                hcm = filter.getTypedConfig().unpack(HttpConnectionManager.class);
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
            if (!hcm.hasRds()) {
                continue;
            }
            String name = hcm.getRds().getRouteConfigName();
            RouteConfiguration route = routes.get(name);
            if (route == null) {
                fail(
                        "%s: filter chain %s uses RDS route config %s, which the translation does not contain (has %s)",
                        identity, chain.getName(), name, routes.keySet());
            }
            referenced.add(name);
            filter.setTypedConfig(Any.pack(hcm.toBuilder().setRouteConfig(route).build()));
        }
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static EnvoyProcess.Result timedValidate(Path file) {
        long start = System.nanoTime();
        try {
            return EnvoyProcess.validate(file);
        } finally {
            ENVOY_NANOS.addAndGet(System.nanoTime() - start);
            ENVOY_RUNS.incrementAndGet();
        }
    }
}
