package io.portcullis.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testfixtures.EgressManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the directory source counts as events (portcullis_config_source_events_total{source="directory"}). */
class DirectorySourceEventsTest {

    private static final Duration SETTLE = Duration.ofSeconds(1);

    @TempDir
    Path dir;

    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final List<SourceEvent> events = new ArrayList<>();

    @Test
    void aFileReadARejectedSaveAndADeletionAreEachCountedOnceTheySettle() throws Exception {
        DirectoryConfigSource source = new DirectoryConfigSource(dir, "fsm-system", SETTLE, () -> now, events::add);
        Files.writeString(
                dir.resolve("a.yaml"),
                EgressManifest.named("a").host("a.com").port(80, "http").yaml());

        source.scan();
        assertThat(events).as("not settled yet").isEmpty();
        scanAfter(source, SETTLE);
        assertThat(events).containsExactly(SourceEvent.FILE_READ);

        Files.writeString(dir.resolve("a.yaml"), "kind: Egress\nspec: [unclosed\n");
        scanAfter(source, Duration.ZERO);
        scanAfter(source, SETTLE);
        assertThat(events).containsExactly(SourceEvent.FILE_READ, SourceEvent.READ_ERROR);

        Files.delete(dir.resolve("a.yaml"));
        scanAfter(source, Duration.ZERO);
        scanAfter(source, SETTLE);
        assertThat(events).containsExactly(SourceEvent.FILE_READ, SourceEvent.READ_ERROR, SourceEvent.FILE_REMOVED);
    }

    private void scanAfter(DirectoryConfigSource source, Duration elapsed) {
        now = now.plus(elapsed);
        source.scan();
    }
}
