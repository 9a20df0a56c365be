package io.portcullis.envoy;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The xDS resources of one identity's sidecars. The version is a digest of the content, so the same
 * policies always give the same version and an unchanged identity is never re-pushed.
 */
public record SidecarResources(
        String version, List<Listener> listeners, List<Cluster> clusters, List<RouteConfiguration> routes) {

    public SidecarResources {
        listeners = List.copyOf(listeners);
        clusters = List.copyOf(clusters);
        routes = List.copyOf(routes);
    }

    public static SidecarResources of(
            List<Listener> listeners, List<Cluster> clusters, List<RouteConfiguration> routes) {
        return new SidecarResources(
                digest(Stream.of(listeners, clusters, routes)
                        .flatMap(List::stream)
                        .toList()),
                listeners,
                clusters,
                routes);
    }

    /**
     * These resources plus a deny-everything route table for each named route table they no longer
     * contain. When an HTTP port's policies are deleted, Envoy drains the old filter chain but keeps
     * its route table until then, and a state-of-the-world server never sends a route table that is
     * gone: without this, open keep-alive connections (and a chain re-added during the drain) would
     * keep the old, wider routes. With it, what Envoy holds under a retired name refuses everything.
     *
     * <p>The version stays that of the live resources: which names are retired depends on what this
     * process served before (a control plane started later, or restarted, has none to retire), and
     * the version must depend on the config alone, so that control planes on the same config serve
     * the same version and a sidecar moving between them is not re-sent what it already runs. The
     * tombstones still reach Envoy: they only ever change together with the live resources.
     */
    public SidecarResources withRetiredRoutes(java.util.Collection<String> retiredRouteNames) {
        java.util.Set<String> current =
                routes.stream().map(RouteConfiguration::getName).collect(java.util.stream.Collectors.toSet());
        List<RouteConfiguration> tombstones = retiredRouteNames.stream()
                .sorted()
                .distinct()
                .filter(name -> !current.contains(name))
                .map(HttpRouteConfigBuilder::denyAll)
                .toList();
        if (tombstones.isEmpty()) {
            return this;
        }
        return new SidecarResources(
                version,
                listeners,
                clusters,
                Stream.concat(routes.stream(), tombstones.stream()).toList());
    }

    private static String digest(List<? extends Message> resources) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Message resource : resources) {
                sha.update(resource.getDescriptorForType().getFullName().getBytes(StandardCharsets.UTF_8));
                sha.update(resource.toByteArray());
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }
}
