package io.portcullis.envoy;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.HttpHostAccess;
import io.portcullis.ir.SidecarEgressModel;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Turns one identity's intermediate model into the Envoy resources its sidecars receive over ADS.
 *
 * <p>Builds of different identities may run at once. Each build keeps, for the identity's next build, the
 * typed configs of its decision loggers ({@link AccessLogs.TypedConfigs}) and its route tables: they are
 * most of a build's work, and a change rarely alters most of them, not even a MeshConfig change, which
 * rebuilds every identity. Reusing them changes no output: each is a function of its key (the identity and
 * the decision it logs; all a route table is built from), and protobuf messages are immutable. Only the last
 * build of each identity is kept, and what it holds are the very objects inside the resources the identity is
 * served, so keeping them costs little memory beyond that.
 */
public final class SidecarResourceBuilder {

    private final ConcurrentMap<ServiceAccountRef, Map<AccessLogs.Decision, AccessLogs.TypedConfigs>> lastLoggers =
            new ConcurrentHashMap<>();
    private final ConcurrentMap<ServiceAccountRef, Map<RouteTableInput, RouteConfiguration>> lastRoutes =
            new ConcurrentHashMap<>();

    /** All that an HTTP port's route table is built from ({@link HttpRouteConfigBuilder#build}): its key. */
    private record RouteTableInput(int port, boolean audit, List<HttpHostAccess> hosts) {}

    public SidecarResources build(SidecarEgressModel model) {
        Map<RouteTableInput, RouteConfiguration> earlierRoutes = lastRoutes.getOrDefault(model.identity(), Map.of());
        Map<RouteTableInput, RouteConfiguration> builtRoutes = new HashMap<>();
        List<RouteConfiguration> routes = switch (model) {
            case SidecarEgressModel.PolicyEnforced policy ->
                policy.ports().stream()
                        .filter(plan -> !plan.httpHosts().isEmpty())
                        .map(plan -> builtRoutes.computeIfAbsent(
                                new RouteTableInput(plan.port(), plan.audit(), plan.httpHosts()),
                                input -> earlierRoutes.containsKey(input)
                                        ? earlierRoutes.get(input)
                                        : HttpRouteConfigBuilder.build(plan)))
                        .toList();
            // Only HTTP ports have route tables; without policies there are none.
            case SidecarEgressModel.Passthrough passthrough -> List.of();
            case SidecarEgressModel.DenyAll denyAll -> List.of();
        };
        lastRoutes.put(model.identity(), Collections.unmodifiableMap(builtRoutes));
        AccessLogs.Loggers loggers = AccessLogs.forIdentity(
                model.identity(),
                OutboundListenerBuilder.sampling(model),
                lastLoggers.getOrDefault(model.identity(), Map.of()));
        Listener listener = OutboundListenerBuilder.build(model, loggers);
        // Two builds of one identity at once: either's configs are right for the next, as both are exact.
        lastLoggers.put(model.identity(), loggers.built());
        return SidecarResources.of(List.of(listener), EgressClusters.all(), routes);
    }
}
