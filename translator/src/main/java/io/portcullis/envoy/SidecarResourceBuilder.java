package io.portcullis.envoy;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.portcullis.ir.HttpHostAccess;
import io.portcullis.ir.SidecarEgressModel;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;

/**
 * Turns one identity's intermediate model into the Envoy resources its sidecars receive over ADS. What is built
 * does not depend on the identity (Envoy reads it from its node metadata, see {@link AccessLogs}): models equal
 * but for their identity give equal resources ({@link ModelWithoutIdentity} is what they are built from).
 *
 * <p>Builds may run at once. The builder keeps, for later builds, the typed configs of decision loggers
 * ({@link AccessLogs.TypedConfigs}) and route tables: they are most of a build's work, and a change rarely alters
 * most of them, not even a MeshConfig change, which rebuilds every identity. Reusing them changes no output: each
 * is a function of its key (the decision it logs; all a route table is built from), and protobuf messages are
 * immutable. They are kept by generation ({@link #nextGeneration}): a piece no build of the current or the
 * previous generation used is dropped, so what is kept is bounded by what the last two configs served, however
 * many identities and policies came and went.
 */
public final class SidecarResourceBuilder {

    /** All that an HTTP port's route table is built from ({@link HttpRouteConfigBuilder#build}): its key. */
    private record RouteTableInput(int port, boolean audit, List<HttpHostAccess> hosts) {}

    /** Pieces built or reused in one generation, and those of the one before, from which they may be reused. */
    private record Generation<K, V>(ConcurrentMap<K, V> current, ConcurrentMap<K, V> previous) {

        static <K, V> Generation<K, V> first() {
            return new Generation<>(new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
        }

        Generation<K, V> next() {
            return new Generation<>(new ConcurrentHashMap<>(), current);
        }

        /** The piece kept for {@code key} by this or the previous generation (kept on for the next), or null. */
        V kept(K key) {
            V kept = current.get(key);
            if (kept != null) {
                return kept;
            }
            V earlier = previous.get(key);
            return earlier == null ? null : keep(key, earlier);
        }

        /** The piece for {@code key}: kept, or built now and kept. */
        V get(K key, Function<K, V> build) {
            V kept = kept(key);
            return kept != null ? kept : keep(key, build.apply(key));
        }

        /** Keeps {@code piece}; two builds at once may both have built it, and either's is right, as both are exact. */
        V keep(K key, V piece) {
            V raced = current.putIfAbsent(key, piece);
            return raced != null ? raced : piece;
        }
    }

    private volatile Generation<AccessLogs.Decision, AccessLogs.TypedConfigs> loggers = Generation.first();
    private volatile Generation<RouteTableInput, RouteConfiguration> routes = Generation.first();

    public SidecarResources build(SidecarEgressModel model) {
        Generation<RouteTableInput, RouteConfiguration> routePieces = routes;
        List<RouteConfiguration> routeTables = switch (model) {
            case SidecarEgressModel.PolicyEnforced policy ->
                policy.ports().stream()
                        .filter(plan -> !plan.httpHosts().isEmpty())
                        .map(plan -> routePieces.get(
                                new RouteTableInput(plan.port(), plan.audit(), plan.httpHosts()),
                                input -> HttpRouteConfigBuilder.build(plan)))
                        .toList();
            // Only HTTP ports have route tables; without policies there are none.
            case SidecarEgressModel.Passthrough passthrough -> List.of();
            case SidecarEgressModel.DenyAll denyAll -> List.of();
        };
        Generation<AccessLogs.Decision, AccessLogs.TypedConfigs> loggerPieces = loggers;
        AccessLogs.Loggers listenerLoggers = AccessLogs.forListener(loggerPieces::kept);
        Listener listener = OutboundListenerBuilder.build(model, listenerLoggers);
        listenerLoggers.built().forEach(loggerPieces::keep);
        return SidecarResources.of(List.of(listener), EgressClusters.all(), routeTables);
    }

    /**
     * Starts a new generation of kept pieces: from now on a build reuses what this generation or the one before
     * built, and nothing older. The control plane calls it once per config change.
     */
    public void nextGeneration() {
        loggers = loggers.next();
        routes = routes.next();
    }
}
