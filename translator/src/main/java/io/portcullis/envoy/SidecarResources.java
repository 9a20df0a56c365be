package io.portcullis.envoy;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The xDS resources of one identity's sidecars, with their versions (see {@link Versions}). Versions are
 * digests of the content, so the same policies always give the same versions and an unchanged identity, or
 * an unchanged type of it, is never re-pushed.
 */
public record SidecarResources(
        Versions versions, List<Listener> listeners, List<Cluster> clusters, List<RouteConfiguration> routes) {

    /**
     * What each version of one identity's resources means. The xDS server sends each type with its own
     * version, so a change re-sends only the types whose content changed: a new path regex in an
     * HTTPRouteGroup is one RDS response, not CDS, LDS and RDS to every sidecar of the identity.
     *
     * @param config    the identity's config version: a digest of the digests of the live listeners, clusters
     *     and route tables (not the tombstones, see {@link #withRetiredRoutes}), so it depends on the policies alone and
     *     control planes on the same config agree on it. It names the config for people ({@code proxy-status},
     *     logs, {@code portcullis translate}) and for the control plane's bookkeeping of what was accepted and
     *     rejected. Envoy never sees it
     * @param clusters  the CDS version: a digest of the clusters alone (the fixed clusters: it rarely changes)
     * @param listeners the LDS version: a digest of the listeners alone
     * @param routes    the RDS version: a digest of every route table sent, tombstones included. Unlike the
     *     config version it must cover the tombstones: the RDS version is what decides whether a route table
     *     is sent, and a tombstone that is not sent leaves the retired, wider route table in Envoy
     * @param listenersUseRoutes whether the listeners name a route table: only then does a sidecar ask for
     *     RDS, so only then must it hold {@code routes} to run this config (a table only retired is asked for
     *     just while a draining filter chain still uses it)
     */
    public record Versions(
            String config, String clusters, String listeners, String routes, boolean listenersUseRoutes) {

        public static final String CLUSTER = Cluster.getDescriptor().getName();
        public static final String LISTENER = Listener.getDescriptor().getName();
        public static final String ROUTE_CONFIGURATION =
                RouteConfiguration.getDescriptor().getName();

        /** The version of an xDS type, named as Envoy's message (Cluster, Listener, RouteConfiguration). */
        public Optional<String> of(String type) {
            if (type.equals(CLUSTER)) {
                return Optional.of(clusters);
            }
            if (type.equals(LISTENER)) {
                return Optional.of(listeners);
            }
            if (type.equals(ROUTE_CONFIGURATION)) {
                return Optional.of(routes);
            }
            return Optional.empty();
        }

        /** The types a sidecar must hold at these versions to run this config. */
        public List<String> requiredTypes() {
            return listenersUseRoutes ? List.of(LISTENER, CLUSTER, ROUTE_CONFIGURATION) : List.of(LISTENER, CLUSTER);
        }
    }

    public SidecarResources {
        listeners = List.copyOf(listeners);
        clusters = List.copyOf(clusters);
        routes = List.copyOf(routes);
    }

    public static SidecarResources of(
            List<Listener> listeners, List<Cluster> clusters, List<RouteConfiguration> routes) {
        // Each resource is serialised and hashed once. The config version is a digest of the three types'
        // digests, not of all the bytes again: hashing is most of the cost of the versions, which are computed
        // for every identity on every change. It still changes exactly when one of the types does.
        byte[] listenerDigest = digest(listeners);
        byte[] clusterDigest = digest(clusters);
        byte[] routeDigest = digest(routes);
        MessageDigest config = sha256();
        config.update(listenerDigest);
        config.update(clusterDigest);
        config.update(routeDigest);
        return new SidecarResources(
                new Versions(
                        version(config.digest()),
                        version(clusterDigest),
                        version(listenerDigest),
                        version(routeDigest),
                        !routes.isEmpty()),
                listeners,
                clusters,
                routes);
    }

    /** The identity's config version: see {@link Versions#config}. */
    public String version() {
        return versions.config();
    }

    /**
     * These resources plus a deny-everything route table for each named route table they no longer
     * contain. When an HTTP port's policies are deleted, Envoy drains the old filter chain but keeps
     * its route table until then, and a state-of-the-world server never sends a route table that is
     * gone: without this, open keep-alive connections (and a chain re-added during the drain) would
     * keep the old, wider routes. With it, what Envoy holds under a retired name refuses everything.
     *
     * <p>The config version stays that of the live resources: which names are retired depends on what this
     * process served before (a control plane started later, or restarted, has none to retire), and the
     * config version must depend on the config alone, so that control planes on the same config name it
     * the same. The RDS version covers the tombstones, because it is what gets them sent: a change of the
     * tombstones alone must re-send RDS. Today the tombstones only change when the live route names do, but
     * the RDS version does not rely on it. The price: control planes with different histories serve the same
     * config with different RDS versions, so a sidecar moving between them is re-sent its route tables (and
     * loses no tombstone it holds: RDS responses only add or replace the tables they name).
     */
    public SidecarResources withRetiredRoutes(Collection<String> retiredRouteNames) {
        Set<String> current = routes.stream().map(RouteConfiguration::getName).collect(Collectors.toSet());
        List<RouteConfiguration> tombstones = retiredRouteNames.stream()
                .sorted()
                .distinct()
                .filter(name -> !current.contains(name))
                .map(HttpRouteConfigBuilder::denyAll)
                .toList();
        if (tombstones.isEmpty()) {
            return this;
        }
        List<RouteConfiguration> withTombstones =
                Stream.concat(routes.stream(), tombstones.stream()).toList();
        return new SidecarResources(
                new Versions(
                        versions.config(),
                        versions.clusters(),
                        versions.listeners(),
                        version(digest(withTombstones)),
                        versions.listenersUseRoutes()),
                listeners,
                clusters,
                withTombstones);
    }

    /** The SHA-256 of {@code resources}, each its type's name then its bytes. */
    private static byte[] digest(List<? extends Message> resources) {
        MessageDigest sha = sha256();
        for (Message resource : resources) {
            sha.update(resource.getDescriptorForType().getFullName().getBytes(StandardCharsets.UTF_8));
            sha.update(resource.toByteArray());
        }
        return sha.digest();
    }

    /** A version as shown and sent: the first 8 bytes of a digest, in hex. */
    private static String version(byte[] digest) {
        return HexFormat.of().formatHex(digest, 0, 8);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }
}
