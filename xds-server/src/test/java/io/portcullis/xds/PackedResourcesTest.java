package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import org.junit.jupiter.api.Test;

class PackedResourcesTest {

    private final PackedResources packed = new PackedResources();

    @Test
    void aResourceIsPackedOnceForEverySidecarItIsSentToAndUnpacksToItself() throws Exception {
        Listener listener = Listener.newBuilder().setName("outbound").build();

        Any first = packed.serialize(listener, Resources.ApiVersion.V3);
        Any again = packed.serialize(listener, Resources.ApiVersion.V3);

        assertThat(again)
                .as("the packed form of the same resource object, not a new serialization")
                .isSameAs(first);
        assertThat(first.unpack(Listener.class)).isEqualTo(listener);
    }

    @Test
    void anEqualResourceOfAnotherSnapshotIsPackedToTheSameBytes() throws Exception {
        Listener listener = Listener.newBuilder().setName("outbound").build();
        Listener rebuilt = Listener.newBuilder().setName("outbound").build();

        assertThat(packed.serialize(rebuilt, Resources.ApiVersion.V3))
                .isEqualTo(packed.serialize(listener, Resources.ApiVersion.V3));
        assertThat(packed.serialize(Listener.newBuilder().setName("other").build(), Resources.ApiVersion.V3)
                        .unpack(Listener.class)
                        .getName())
                .isEqualTo("other");
    }
}
