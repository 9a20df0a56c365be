package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.portcullis.envoy.SidecarResources;
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
    private static final String RDS = Resources.V3.ROUTE_TYPE_URL;

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
        return SidecarSync.assess(s, served(served), now, STALE_AFTER).state();
    }

    /** Config {@code v} with listener and cluster versions {@code v} and no route tables named. */
    private static SidecarResources.Versions served(String v) {
        return new SidecarResources.Versions(v, v, v, "no-routes", false);
    }

    private static SidecarSync assess(SidecarStatus s, String served, Instant now) {
        return SidecarSync.assess(s, served(served), now, STALE_AFTER);
    }

    @Test
    void aSidecarThatAckedTheServedListenersAndClustersIsSynced() {
        SidecarStatus s = acked(sent(connected(), "v1", T0), "v1", T0.plusMillis(20));

        SidecarSync sync = assess(s, "v1", T0.plusSeconds(3600));

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
        SidecarSync late = assess(s, "v2", T0.plusSeconds(131));
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

        SidecarSync nacked = assess(s, "v2", T0.plusSeconds(6));
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
        SidecarSync stale = assess(s, "v2", T0.plusSeconds(40));
        assertThat(stale.state()).isEqualTo(SidecarSync.State.STALE);
        assertThat(stale.detail())
                .contains("served version v2 not sent to it; it runs Listener v1 (served v2), Cluster v1 (served v2)");
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

    /** Config c2 changed only route tables: same listener and cluster versions as c1, a new RDS version. */
    @Test
    void aSidecarThatHasNotAckedTheRouteTablesOfAnRdsOnlyChangeIsNotSyncedUntilItDoes() {
        SidecarResources.Versions c1 = new SidecarResources.Versions("c1", "cds", "lds", "rds1", true);
        SidecarResources.Versions c2 = new SidecarResources.Versions("c2", "cds", "lds", "rds2", true);
        SidecarStatus s = connected()
                .withType(LDS, t -> t.acked("lds"))
                .withType(CDS, t -> t.acked("cds"))
                .withType(RDS, t -> t.acked("rds1"));
        assertThat(SidecarSync.assess(s, c1, T0.plusSeconds(1), STALE_AFTER).state())
                .isEqualTo(SidecarSync.State.SYNCED);

        // Only RDS is sent for c2.
        s = s.withType(RDS, t -> t.sent("rds2", "n-rds2", T0.plusSeconds(10)));
        SidecarSync pending = SidecarSync.assess(s, c2, T0.plusSeconds(11), STALE_AFTER);
        assertThat(pending.state())
                .as("its listeners and clusters are c2's, but not its route tables")
                .isEqualTo(SidecarSync.State.PENDING);
        assertThat(pending.upToDate()).isFalse();
        SidecarSync stale = SidecarSync.assess(s, c2, T0.plusSeconds(41), STALE_AFTER);
        assertThat(stale.state()).isEqualTo(SidecarSync.State.STALE);
        assertThat(stale.detail()).startsWith("RouteConfiguration version rds2 sent 31 s ago, not ACKed");

        s = s.withType(RDS, t -> t.acked("rds2"));
        SidecarSync synced = SidecarSync.assess(s, c2, T0.plusSeconds(42), STALE_AFTER);
        assertThat(synced.state()).isEqualTo(SidecarSync.State.SYNCED);
        assertThat(synced.detail()).isEqualTo("runs the served version c2");
    }

    @Test
    void aRejectedRouteTableVersionIsNackedEvenThoughListenersAndClustersAreCurrent() {
        SidecarResources.Versions c2 = new SidecarResources.Versions("c2", "cds", "lds", "rds2", true);
        SidecarStatus s = connected()
                .withType(LDS, t -> t.acked("lds"))
                .withType(CDS, t -> t.acked("cds"))
                .withType(RDS, t -> t.acked("rds1"))
                .withType(RDS, t -> t.sent("rds2", "n-rds2", T0))
                .withType(RDS, t -> t.nacked("rds2", "RE2 program size too big"));

        SidecarSync sync = SidecarSync.assess(s, c2, T0.plusSeconds(1), STALE_AFTER);

        assertThat(sync.state()).isEqualTo(SidecarSync.State.NACKED);
        assertThat(sync.upToDate()).isFalse();
        assertThat(sync.detail()).isEqualTo("Envoy rejected RouteConfiguration version rds2: RE2 program size too big");
    }

    @Test
    void routeTablesCountOnlyWhenTheServedListenersNameSome() {
        SidecarResources.Versions tcpOnly = new SidecarResources.Versions("c3", "cds", "lds3", "tombstones", false);
        SidecarStatus s = connected()
                .withType(LDS, t -> t.acked("lds3"))
                .withType(CDS, t -> t.acked("cds"))
                .withType(RDS, t -> t.acked("rds1"));

        assertThat(SidecarSync.assess(s, tcpOnly, T0.plusSeconds(1), STALE_AFTER)
                        .state())
                .as("Envoy stops asking for route tables no listener names; their last ACK may lag")
                .isEqualTo(SidecarSync.State.SYNCED);
    }
}
