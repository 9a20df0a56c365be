package io.portcullis.bench.ads;

import java.time.Instant;

/**
 * Monotonic nanoseconds for every duration the benchmark measures, and their wall-clock equivalent in
 * milliseconds for the one start point only the server knows: when its config source delivered an update
 * (a wall-clock gauge on its /metrics). Client and server share the machine, so they share the wall clock.
 */
final class BenchClock {

    private final long anchorNanos;
    private final long anchorWallMicros;

    BenchClock() {
        Instant now = Instant.now();
        anchorNanos = System.nanoTime();
        anchorWallMicros = now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    long nanos() {
        return System.nanoTime();
    }

    /** {@code nanos} (from {@link #nanos()}) as wall-clock milliseconds since the epoch, fractional. */
    double wallMillis(long nanos) {
        return (anchorWallMicros + (nanos - anchorNanos) / 1000.0) / 1000.0;
    }

    static double millis(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1e6;
    }
}
