package io.portcullis.bench.ads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import org.junit.jupiter.api.Test;

class ResponseNamesTest {

    @Test
    void routeNamesAreThoseTheListenersHttpConnectionManagersReference() {
        DiscoveryResponse listeners = listeners("v1", "route-80", "route-8080");

        assertThat(new ResponseNames().routeNames(listeners)).containsExactly("route-80", "route-8080");
    }

    @Test
    void aListenerVersionIsParsedOnceForEverySidecarThatGetsIt() {
        ResponseNames names = new ResponseNames();
        names.routeNames(listeners("v1", "route-80"));

        // Same version, so the same content by the server's promise: the first reading is reused.
        assertThat(names.routeNames(listeners("v1", "route-9999"))).containsExactly("route-80");
        assertThat(names.routeNames(listeners("v2", "route-9999"))).containsExactly("route-9999");
    }

    @Test
    void aRouteTableNameIsReadWithoutBuildingTheTableAndEqualsTheFullParse() {
        RouteConfiguration table = RouteConfiguration.newBuilder()
                .addVirtualHosts(VirtualHost.newBuilder().setName("httpbin").addDomains("httpbin.org"))
                .setName("route-80")
                .build();
        DiscoveryResponse routes = DiscoveryResponse.newBuilder()
                .setVersionInfo("r1")
                .addResources(Any.pack(table))
                .addResources(Any.pack(
                        RouteConfiguration.newBuilder().setName("route-443").build()))
                .build();

        assertThat(new ResponseNames().routeConfigurationNames(routes)).containsExactly("route-443", "route-80");
    }

    @Test
    void aResourceOfAnotherTypeIsRefused() {
        DiscoveryResponse routes = DiscoveryResponse.newBuilder()
                .addResources(Any.pack(Listener.newBuilder().setName("route-80").build()))
                .build();

        assertThatThrownBy(() -> new ResponseNames().routeConfigurationNames(routes))
                .hasMessageContaining("envoy.config.listener.v3.Listener");
    }

    private static DiscoveryResponse listeners(String version, String... routeNames) {
        Listener.Builder listener = Listener.newBuilder().setName("outbound");
        for (String routeName : routeNames) {
            HttpConnectionManager manager = HttpConnectionManager.newBuilder()
                    .setRds(Rds.newBuilder().setRouteConfigName(routeName))
                    .build();
            listener.addFilterChains(FilterChain.newBuilder()
                    .addFilters(Filter.newBuilder().setName("hcm").setTypedConfig(Any.pack(manager))));
        }
        return DiscoveryResponse.newBuilder()
                .setVersionInfo(version)
                .addResources(Any.pack(listener.build()))
                .build();
    }
}
