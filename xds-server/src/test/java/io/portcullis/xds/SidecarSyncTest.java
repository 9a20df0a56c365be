package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.portcullis.input.ServiceAccountRef;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sync state proxy-status, /debug/sidecars and the operator page show, from the stream's bookkeeping. */
class SidecarSyncTest {

    private static final Duration STALE_AFTER = Duration.ofSeconds(30);
    private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
    private static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    private static final String CDS = Resources.V3.CLUSTER_TYPE_URL;

    private static SidecarStatus connected() {
        return new SidecarStatus(
                7, "sidecar~curl~curl~curl-1", "curl-1", new ServiceAccountRef("curl", "curl"), T0, T0, Map.of());
    }

    private static SidecarStatus sent(SidecarStatus s, String version, Instant at) {
        return s.withType(LDS, t -> t.sent(version, "n-" + version, at))
                .withType(CDS, t -> t.sent(version, "n-" + version, at));
    }

    private static SidecarStatus acked(SidecarStatus s, String version, Instant at) {
        return s.withType(LDS, t -> t.acked(version))
                .withType(CDS, t -> t.acked(version))
                .seen(at);
    }

    private static SidecarSync.State state(SidecarStatus s, String served, Instant now) {
        return SidecarSync.assess(s, served, now, STALE_AFTER).state();
    }

    @Test
    void aSidecarThatAckedTheServedListenersAndClustersIsSynced() {
        SidecarStatus s = acked(sent(connected(), "v1", T0), "v1", T0.plusMillis(20));

        SidecarSync sync = SidecarSync.assess(s, "v1", T0.plusSeconds(3600), STALE_AFTER);

        assertThat(sync.state())
                .as("an idle ADS stream sends nothing for hours: quiet is not stale")
                .isEqualTo(SidecarSync.State.SYNCED);
        assertThat(sync.upToDate()).isTrue();
        assertThat(sync.detail()).isEqualTo("runs the served version v1");
    }

    @Test
    void aVersionNotYetAckedIsPendingWithinStaleAfterAndStaleAfterIt() {
        SidecarStatus s = sent(acked(sent(connected(), "v1", T0), "v1", T0), "v2", T0.plusSeconds(100));

        assertThat(state(s, "v2", T0.plusSeconds(101))).isEqualTo(SidecarSync.State.PENDING);
        assertThat(state(s, "v2", T0.plusSeconds(130))).isEqualTo(SidecarSync.State.PENDING);
        SidecarSync late = SidecarSync.assess(s, "v2", T0.plusSeconds(131), STALE_AFTER);
        assertThat(late.state()).isEqualTo(SidecarSync.State.STALE);
        assertThat(late.state().needsAttention()).isTrue();
        assertThat(late.detail()).isEqualTo("Cluster version v2 sent 31 s ago, not ACKed (stale after 30 s)");
    }

    @Test
    void newerPushesToASidecarThatNeverAcksDoNotResetItsAge() {
        SidecarStatus s = sent(connected(), "v1", T0);
        for (int i = 2; i <= 5; i++) {
            s = sent(s, "v" + i, T0.plusSeconds(10L * i));
        }

        assertThat(state(s, "v5", T0.plusSeconds(55)))
                .as("behind since the first un-ACKed push at T0, though the last was 5 s ago")
                .isEqualTo(SidecarSync.State.STALE);
    }

    @Test
    void aRejectedLastVersionIsNackedWithEnvoysMessageAndTheNextAcceptedVersionIsSyncedAgain() {
        SidecarStatus s = acked(sent(connected(), "v1", T0), "v1", T0);
        s = sent(s, "v2", T0.plusSeconds(5)).withType(LDS, t -> t.nacked("v2", "duplicate filter chain match"));

        SidecarSync nacked = SidecarSync.assess(s, "v2", T0.plusSeconds(6), STALE_AFTER);
        assertThat(nacked.state()).isEqualTo(SidecarSync.State.NACKED);
        assertThat(nacked.state().needsAttention()).isTrue();
        assertThat(nacked.detail()).isEqualTo("Envoy rejected Listener version v2: duplicate filter chain match");

        // The control plane fails closed: a narrower v3 is sent and taken.
        s = acked(sent(s, "v3", T0.plusSeconds(6)), "v3", T0.plusSeconds(7));
        assertThat(state(s, "v3", T0.plusSeconds(8))).isEqualTo(SidecarSync.State.SYNCED);
    }

    @Test
    void aSidecarReconnectingWithTheServedVersionIsSyncedWithoutBeingSentAnything() {
        SidecarStatus s = connected().withType(LDS, t -> t.acked("v1")).withType(CDS, t -> t.acked("v1"));

        assertThat(state(s, "v1", T0.plusSeconds(120))).isEqualTo(SidecarSync.State.SYNCED);
    }

    @Test
    void aServedVersionNeverSentAgesFromTheLastMessage() {
        SidecarStatus s = connected().withType(LDS, t -> t.acked("v1")).withType(CDS, t -> t.acked("v1"));

        assertThat(state(s, "v2", T0.plusSeconds(10))).isEqualTo(SidecarSync.State.PENDING);
        SidecarSync stale = SidecarSync.assess(s, "v2", T0.plusSeconds(40), STALE_AFTER);
        assertThat(stale.state()).isEqualTo(SidecarSync.State.STALE);
        assertThat(stale.detail()).contains("served version v2 not sent to it; it ACKed listeners v1");
    }

    @Test
    void anAckOfTheSentVersionEndsThePendingTime() {
        SidecarStatus s = sent(connected(), "v1", T0);
        assertThat(s.types().get("Listener").pendingSince()).isEqualTo(T0);

        s = acked(s, "v1", T0.plusSeconds(1));

        assertThat(s.types().values())
                .allSatisfy(t -> assertThat(t.pendingSince()).isNull());
        assertThat(s.lastSeen()).isEqualTo(T0.plusSeconds(1));
    }
}
