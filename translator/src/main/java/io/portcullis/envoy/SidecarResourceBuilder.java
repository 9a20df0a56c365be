package io.portcullis.envoy;

import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.portcullis.ir.SidecarEgressModel;
import java.util.List;

/** Turns one identity's intermediate model into the Envoy resources its sidecars receive over ADS. */
public final class SidecarResourceBuilder {

    public SidecarResources build(SidecarEgressModel model) {
        List<RouteConfiguration> routes = switch (model) {
            case SidecarEgressModel.PolicyEnforced policy ->
                policy.ports().stream()
                        .filter(plan -> !plan.httpHosts().isEmpty())
                        .map(HttpRouteConfigBuilder::build)
                        .toList();
            // Only HTTP ports have route tables; without policies there are none.
            case SidecarEgressModel.Passthrough passthrough -> List.of();
            case SidecarEgressModel.DenyAll denyAll -> List.of();
        };
        return SidecarResources.of(List.of(OutboundListenerBuilder.build(model)), EgressClusters.all(), routes);
    }
}
