package io.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.crds.Egress;
import io.portcullis.crds.MeshConfig;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import io.portcullis.source.SourceEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * What the Kubernetes source counts (portcullis_config_source_events_total{source="kubernetes"}), from a
 * real API server's informer events.
 */
@NeedsKubeApiServer
class KubernetesSourceEventsTest {

    private static final Duration CATCH_UP = Duration.ofSeconds(60);

    @Test
    void informerEventsAndAppliedUpdatesAreCountedByKind() throws Exception {
        List<SourceEvent> events = new CopyOnWriteArrayList<>();
        List<Object> applied = new CopyOnWriteArrayList<>();
        try (KubeApiServer server = KubeApiServer.start(List.of())) {
            server.installCrds();
            KubernetesClient admin = server.client();
            server.kubectl("create", "namespace", "curl").orThrow();
            server.kubectl("label", "namespace", "curl", "flomesh.io/monitored-by=fsm")
                    .orThrow();
            ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("curl", "db", 5432));
            try (KubernetesConfigSource source = new KubernetesConfigSource(
                    admin, MeshConfig.DEFAULT_NAMESPACE, KubernetesConfigSource.DEFAULT_SYNC_TIMEOUT, events::add)) {
                source.start(applied::add);
                assertThat(events)
                        .as("the first list: the namespace and the Egress, then the first update")
                        .contains(SourceEvent.OBJECT_ADDED, SourceEvent.UPDATE_APPLIED)
                        .doesNotContain(SourceEvent.OBJECT_UPDATED, SourceEvent.OBJECT_DELETED);

                ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("curl", "db", 5433));
                await("the change is counted and applied")
                        .atMost(CATCH_UP)
                        .until(() -> events.contains(SourceEvent.OBJECT_UPDATED) && applied.size() >= 2);

                server.kubectl("delete", "egress", "db", "-n", "curl").orThrow();
                await("the deletion is counted and applied")
                        .atMost(CATCH_UP)
                        .until(() -> events.contains(SourceEvent.OBJECT_DELETED) && applied.size() >= 3);
                // Counted right after the listener returns: the count may trail the last update briefly.
                await("every update applied is counted, once")
                        .atMost(CATCH_UP)
                        .until(() -> count(events, SourceEvent.UPDATE_APPLIED) == applied.size());
                assertThat(events).doesNotContain(SourceEvent.APPLY_FAILED, SourceEvent.WATCH_ERROR);
            }
        }
    }

    private static long count(List<SourceEvent> events, SourceEvent kind) {
        return events.stream().filter(kind::equals).count();
    }
}
