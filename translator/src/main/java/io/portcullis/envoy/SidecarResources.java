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
public record SidecarResources(String version, List<Listener> listeners, List<Cluster> clusters,
                               List<RouteConfiguration> routes) {

    public SidecarResources {
        listeners = List.copyOf(listeners);
        clusters = List.copyOf(clusters);
        routes = List.copyOf(routes);
    }

    public static SidecarResources of(List<Listener> listeners, List<Cluster> clusters, List<RouteConfiguration> routes) {
        return new SidecarResources(digest(Stream.of(listeners, clusters, routes).flatMap(List::stream).toList()),
                listeners, clusters, routes);
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
