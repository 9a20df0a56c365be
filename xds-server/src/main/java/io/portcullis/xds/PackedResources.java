package io.portcullis.xds;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.server.serializer.ProtoResourcesSerializer;

/**
 * Packs each resource of a snapshot into its {@link Any} once, for every sidecar it is sent to. java-control-plane
 * packs (serializes) every resource again for every response, so a connect storm serialized an identity's listener
 * once per sidecar: 1,000 sidecars of 100 identities cost 1,000 serializations of configs that exist 100 times.
 *
 * <p>Keyed by the resource object (identity, weak): a snapshot's resources are built once and shared by every
 * response that sends them. The packed form is held weakly too, only while a response being sent holds it (the
 * sidecars of an identity connecting together share it): kept for the snapshot's life, it cost each identity a
 * second, serialized copy of its config (~20 KiB of live heap per sidecar at 10,000 policies). Only the v3 API
 * is served.
 */
final class PackedResources implements ProtoResourcesSerializer {

    private final Cache<Message, Any> packed =
            CacheBuilder.newBuilder().weakKeys().weakValues().build();

    @Override
    public Any serialize(Message resource, Resources.ApiVersion apiVersion) {
        Any any = packed.getIfPresent(resource);
        if (any == null) {
            // Two threads may pack the same resource at once: both get equal bytes, one is kept.
            any = Any.pack(resource);
            packed.put(resource, any);
        }
        return any;
    }
}
