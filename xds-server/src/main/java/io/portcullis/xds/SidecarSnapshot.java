package io.portcullis.xds;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.portcullis.envoy.SidecarResources;
import java.util.List;

/**
 * One identity's resources as java-control-plane's cache holds them, each type at its own version.
 *
 * <p>Not {@code Snapshot.create}: it wraps every resource with a version made from the resource's protobuf
 * {@code hashCode}, which walks the whole message, packed bytes included; that was a fifth of the CPU of an
 * identity's change at 10,000 policies. A resource's own version is only read by delta xDS, which
 * {@link SidecarRegistry} refuses; state-of-the-world responses carry the type's version. So each resource is
 * given its type's version, a digest of the type's content {@link SidecarResources} already computed.
 */
final class SidecarSnapshot extends Snapshot {

    private final SnapshotResources<Cluster> clusters;
    private final SnapshotResources<ClusterLoadAssignment> endpoints;
    private final SnapshotResources<Listener> listeners;
    private final SnapshotResources<RouteConfiguration> routes;
    private final SnapshotResources<Secret> secrets;

    private SidecarSnapshot(SidecarResources resources) {
        SidecarResources.Versions versions = resources.versions();
        clusters = versioned(resources.clusters(), versions.clusters());
        listeners = versioned(resources.listeners(), versions.listeners());
        routes = versioned(resources.routes(), versions.routes());
        // No endpoints or secrets over ADS: Portcullis' sidecars never ask.
        endpoints = versioned(List.<ClusterLoadAssignment>of(), versions.config());
        secrets = versioned(List.<Secret>of(), versions.config());
    }

    static Snapshot of(SidecarResources resources) {
        return new SidecarSnapshot(resources);
    }

    private static <T extends Message> SnapshotResources<T> versioned(List<T> resources, String version) {
        // SnapshotResources takes VersionedResource items as they are, and wraps (hashes) only bare messages.
        List<VersionedResource<T>> items = resources.stream()
                .map(resource -> VersionedResource.create(resource, version))
                .toList();
        return SnapshotResources.create(items, version);
    }

    @Override
    public SnapshotResources<Cluster> clusters() {
        return clusters;
    }

    @Override
    public SnapshotResources<ClusterLoadAssignment> endpoints() {
        return endpoints;
    }

    @Override
    public SnapshotResources<Listener> listeners() {
        return listeners;
    }

    @Override
    public SnapshotResources<RouteConfiguration> routes() {
        return routes;
    }

    @Override
    public SnapshotResources<Secret> secrets() {
        return secrets;
    }
}
