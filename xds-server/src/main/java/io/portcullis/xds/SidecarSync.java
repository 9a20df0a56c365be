package io.portcullis.xds;

import io.portcullis.envoy.SidecarResources;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

/**
 * Whether a connected sidecar runs the config its identity is served, as {@code portcullis proxy-status},
 * {@code /debug/sidecars} and the operator page show it. One assessment, so the three cannot disagree.
 *
 * @param state    what an operator acts on
 * @param upToDate it runs the identity's current config: each type's version of it (route tables when its listeners
 *     name some), and rejected none of them
 * @param detail   one sentence saying why, with versions and ages
 */
public record SidecarSync(State state, boolean upToDate, String detail) {

    /** How long a sidecar may leave a version un-ACKed before it counts as stale, unless told otherwise. */
    public static final Duration DEFAULT_STALE_AFTER = Duration.ofSeconds(30);

    public enum State {
        /** Runs the served config: every type at the served config's version of that type. */
        SYNCED,
        /** A newer version was sent less than stale-after ago and is not ACKed yet: normal during a push. */
        PENDING,
        /** Not on the served version for longer than stale-after: it may be enforcing an old config. */
        STALE,
        /**
         * Its Envoy rejected the last version of some type it was sent and accepted nothing since: it runs the
         * config it had before (see FailClosed for what the control plane does about it).
         */
        NACKED;

        /** What makes {@code proxy-status} exit non-zero. */
        public boolean needsAttention() {
            return this == STALE || this == NACKED;
        }
    }

    /**
     * @param served     the versions the sidecar's identity is served now; null when it has none yet
     * @param now        the control plane's clock: every instant in {@code status} was taken from it
     * @param staleAfter how long un-ACKed is still {@link State#PENDING}
     */
    public static SidecarSync assess(
            SidecarStatus status, SidecarResources.Versions served, Instant now, Duration staleAfter) {
        Map<String, SidecarStatus.TypeStatus> types = status.types();
        Optional<Map.Entry<String, SidecarStatus.TypeStatus>> rejecting = types.entrySet().stream()
                .filter(e -> e.getValue().rejectsLastSent())
                .findFirst();
        // Each type against its own version: an RDS-only change moves only the RDS version, so a sidecar that
        // has not ACKed the new route tables is not up to date, whatever its listeners and clusters.
        boolean upToDate = served != null
                && status.holds(served)
                && types.entrySet().stream()
                        .noneMatch(e -> e.getValue().nackedVersion() != null
                                && e.getValue()
                                        .nackedVersion()
                                        .equals(served.of(e.getKey()).orElse(null))
                                // One type version is shared by many configs: a rejection counts until accepted.
                                && !e.getValue()
                                        .nackedVersion()
                                        .equals(e.getValue().ackedVersion()));
        if (rejecting.isPresent()) {
            var type = rejecting.get();
            return new SidecarSync(
                    State.NACKED,
                    upToDate,
                    "Envoy rejected " + type.getKey() + " version "
                            + type.getValue().nackedVersion() + ": "
                            + type.getValue().nackMessage());
        }
        if (upToDate) {
            return new SidecarSync(State.SYNCED, true, "runs the served version " + served.config());
        }
        // Since when it is behind: the oldest response it has not ACKed; with none (the served version was
        // not sent to it), its last message, after which the control plane would have answered at once.
        Optional<Map.Entry<String, SidecarStatus.TypeStatus>> oldestPending = types.entrySet().stream()
                .filter(e -> e.getValue().pendingSince() != null)
                .min(Comparator.comparing(e -> e.getValue().pendingSince()));
        Instant since = oldestPending.map(e -> e.getValue().pendingSince()).orElse(status.lastSeen());
        Duration behind = Duration.between(since, now);
        String what = oldestPending
                .map(e -> e.getKey() + " version " + e.getValue().sentVersion() + " sent " + seconds(behind)
                        + " ago, not ACKed")
                .orElse(
                        served == null
                                ? "no config served to " + status.identity() + " yet (last message " + seconds(behind)
                                        + " ago)"
                                : "served version " + served.config() + " not sent to it; it runs "
                                        + behindTypes(status, served) + " (last message " + seconds(behind)
                                        + " ago)");
        if (behind.compareTo(staleAfter) > 0) {
            return new SidecarSync(State.STALE, false, what + " (stale after " + seconds(staleAfter) + ")");
        }
        return new SidecarSync(State.PENDING, false, what);
    }

    /** The types the sidecar does not hold at the served version: "Listener 1234abcd (served 5678ef01)". */
    private static String behindTypes(SidecarStatus status, SidecarResources.Versions served) {
        return String.join(
                ", ",
                served.requiredTypes().stream()
                        .filter(type -> !served.of(type).orElseThrow().equals(status.ackedVersion(type)))
                        .map(type -> type + " " + status.ackedVersion(type) + " (served "
                                + served.of(type).orElseThrow() + ")")
                        .toList());
    }

    private static String seconds(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0
                ? millis / 1000 + " s"
                : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
