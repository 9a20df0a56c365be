package io.portcullis.xds;

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
 * @param upToDate it runs the identity's current listeners and clusters and rejected none of that version
 * @param detail   one sentence saying why, with versions and ages
 */
public record SidecarSync(State state, boolean upToDate, String detail) {

    /** How long a sidecar may leave a version un-ACKed before it counts as stale, unless told otherwise. */
    public static final Duration DEFAULT_STALE_AFTER = Duration.ofSeconds(30);

    public enum State {
        /** Runs the served version. */
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
     * @param served     the version the sidecar's identity is served now; null when it has none yet
     * @param now        the control plane's clock: every instant in {@code status} was taken from it
     * @param staleAfter how long un-ACKed is still {@link State#PENDING}
     */
    public static SidecarSync assess(SidecarStatus status, String served, Instant now, Duration staleAfter) {
        Map<String, SidecarStatus.TypeStatus> types = status.types();
        Optional<Map.Entry<String, SidecarStatus.TypeStatus>> rejecting = types.entrySet().stream()
                .filter(e -> e.getValue().rejectsLastSent())
                .findFirst();
        // Route tables are left out of the ACK check: Envoy asks for them by name and stops asking when no
        // listener uses them, so their last ACK can lawfully lag; their status is listed per type.
        boolean upToDate = served != null
                && served.equals(status.ackedListenerVersion())
                && types.containsKey("Cluster")
                && served.equals(types.get("Cluster").ackedVersion())
                && types.values().stream().noneMatch(t -> served.equals(t.nackedVersion()));
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
            return new SidecarSync(State.SYNCED, true, "runs the served version " + served);
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
                                : "served version " + served + " not sent to it; it ACKed listeners "
                                        + status.ackedListenerVersion() + " (last message " + seconds(behind)
                                        + " ago)");
        if (behind.compareTo(staleAfter) > 0) {
            return new SidecarSync(State.STALE, false, what + " (stale after " + seconds(staleAfter) + ")");
        }
        return new SidecarSync(State.PENDING, false, what);
    }

    private static String seconds(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0
                ? millis / 1000 + " s"
                : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
