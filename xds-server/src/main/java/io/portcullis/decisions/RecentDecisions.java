package io.portcullis.decisions;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The last decisions the sidecars reported, newest first, bounded so a flood of denials costs a fixed
 * amount of memory. Shared by the ALS receiver (writer) and the debug endpoint and operator page
 * (readers); one instance per control plane, no static state.
 */
public final class RecentDecisions {

    private final int capacity;
    private final Deque<EgressDecision> decisions = new ArrayDeque<>();

    public RecentDecisions(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    public synchronized void record(EgressDecision decision) {
        decisions.addFirst(decision);
        while (decisions.size() > capacity) {
            decisions.removeLast();
        }
    }

    /** Up to {@code limit} decisions, newest first. */
    public synchronized List<EgressDecision> recent(int limit) {
        return decisions.stream().limit(limit).toList();
    }

    /** Up to {@code limit} denials and would-be denials, newest first. */
    public synchronized List<EgressDecision> recentRefusals(int limit) {
        List<EgressDecision> refused = new ArrayList<>();
        for (EgressDecision d : decisions) {
            if (refused.size() == limit) {
                break;
            }
            if (d.refused()) {
                refused.add(d);
            }
        }
        return refused;
    }
}
