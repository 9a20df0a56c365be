package io.portcullis.envoy;

import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.portcullis.ir.EgressMode;
import io.portcullis.ir.SidecarEgressModel;
import java.util.List;

/** Turns one identity's intermediate model into the Envoy resources its sidecars receive over ADS. */
public final class SidecarResourceBuilder {

    public SidecarResources build(SidecarEgressModel model) {
        List<RouteConfiguration> routes = model.mode() != EgressMode.POLICY
                ? List.of()
                : model.ports().stream()
                        .filter(plan -> !plan.httpHosts().isEmpty())
                        .map(HttpRouteConfigBuilder::build)
                        .toList();
        return SidecarResources.of(List.of(OutboundListenerBuilder.build(model)), EgressClusters.all(), routes);
    }
}
