package io.portcullis.xds;

import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.portcullis.input.ServiceAccountRef;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * java-control-plane's {@link SimpleCache}, except that a NACK is never answered with the version it rejects.
 *
 * <p>A NACK carries the last version the sidecar accepted as version_info. SimpleCache compares that with
 * the snapshot's version, finds them different and sends the snapshot again at once; Envoy rejects it
 * again, and the two loop hundreds of times a second. Here a NACK of a version still rejected is taken as
 * "up to date with that version": the watch stays open and the stream gets the identity's next snapshot,
 * whenever it changes. Versions are per xDS type (see SidecarResources.Versions), and so is the question:
 * was this type's version in the snapshot rejected? The control plane changes it at once on a NACK (see {@link FailClosed}) unless
 * even deny-all was rejected, so normally the answer to a NACK is the narrower config.
 */
public final class NackAwareConfigWatcher implements ConfigWatcher {

    /** Whether a version of one xDS type of an identity was rejected since the identity's input last changed. */
    @FunctionalInterface
    interface RejectedVersions {
        /** @param type the type as Envoy's message names it: Cluster, Listener, RouteConfiguration */
        boolean rejected(ServiceAccountRef identity, String type, String version);
    }

    private final SimpleCache<ServiceAccountRef> cache;
    private final RejectedVersions rejected;

    NackAwareConfigWatcher(SimpleCache<ServiceAccountRef> cache, RejectedVersions rejected) {
        this.cache = cache;
        this.rejected = rejected;
    }

    @Override
    public Watch createWatch(
            boolean ads,
            XdsRequest request,
            Set<String> knownResourceNames,
            Consumer<Response> responseConsumer,
            boolean hasClusterChanged,
            boolean allowDefaultEmptyEdsUpdate) {
        if (request.hasErrorDetail()) {
            ServiceAccountRef identity = SidecarIdentity.of(request.v3Request().getNode());
            Snapshot snapshot = cache.getSnapshot(identity);
            String current = snapshot == null
                    ? null
                    : snapshot.version(request.getResourceType(), request.getResourceNamesList());
            if (current != null
                    && rejected.rejected(identity, SidecarStatus.shortType(request.getTypeUrl()), current)) {
                // Also claim the requested names as known, or SimpleCache answers "new" names (never ACKed,
                // as in a first RDS request) at once with the same rejected version.
                XdsRequest asIfCurrent = XdsRequest.create(
                        request.v3Request().toBuilder().setVersionInfo(current).build());
                return cache.createWatch(
                        ads,
                        asIfCurrent,
                        Set.copyOf(request.getResourceNamesList()),
                        responseConsumer,
                        false,
                        allowDefaultEmptyEdsUpdate);
            }
        }
        return cache.createWatch(
                ads, request, knownResourceNames, responseConsumer, hasClusterChanged, allowDefaultEmptyEdsUpdate);
    }

    @Override
    public DeltaWatch createDeltaWatch(
            DeltaXdsRequest request,
            String requesterVersion,
            Map<String, String> resourceVersions,
            Set<String> pendingResources,
            boolean isWildcard,
            Consumer<DeltaResponse> responseConsumer,
            boolean hasClusterChanged) {
        // SidecarRegistry refuses delta streams before they get here.
        throw new UnsupportedOperationException("Portcullis serves state-of-the-world ADS only");
    }
}
