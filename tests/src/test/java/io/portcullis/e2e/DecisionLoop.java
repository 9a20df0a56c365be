package io.portcullis.e2e;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Requests from a pod, round after round on a thread of its own, each checked against the decision the
 * policy in force should give: an allowed request must get 200, a denied one must be refused. Each result
 * is filed under the phase the test was in when it was sent (control plane up, killed, back...), so a
 * test can show what happened while no control plane was there.
 *
 * <p>Denied plain-HTTP requests carry a probe that must never show in httpbin.org's access log, and
 * allowed ones a probe that must: a 403 from the sidecar and a refusal that reached the site are told apart.
 */
final class DecisionLoop implements AutoCloseable {

    /** One kind of request: what it is, and whether the policy lets it through. */
    record Request(String description, boolean allowed, String url, List<String> curlArgs) {
        Request(String description, boolean allowed, String url, String... curlArgs) {
            this(description, allowed, url, List.of(curlArgs));
        }
    }

    /** Counts of one phase. */
    static final class Tally {
        int allowedPassed;
        int allowedRefused;
        int deniedRefused;
        int deniedPassed;

        int total() {
            return allowedPassed + allowedRefused + deniedRefused + deniedPassed;
        }

        @Override
        public String toString() {
            return String.format(
                    "%d requests: allowed %d passed / %d refused, denied %d refused / %d passed",
                    total(), allowedPassed, allowedRefused, deniedRefused, deniedPassed);
        }
    }

    private final Pod pod;
    private final List<Request> requests;
    private final String probePrefix = "probe-" + UUID.randomUUID();
    private final Map<String, Tally> tallies = new LinkedHashMap<>();
    private final List<String> wrongDecisions = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile String phase;
    private int sent;

    /** @param phase what is going on when the loop starts, e.g. "connected to A" */
    DecisionLoop(Pod pod, List<Request> requests, String phase) {
        this.pod = pod;
        this.requests = List.copyOf(requests);
        enter(phase);
        this.thread =
                Thread.ofPlatform().name("decisions-" + pod.podName()).daemon().start(this::run);
    }

    /** From now on, requests are filed under this phase. */
    synchronized void enter(String next) {
        tallies.putIfAbsent(next, new Tally());
        phase = next;
    }

    /** Requests sent and checked so far in a phase. */
    synchronized int count(String p) {
        return tallies.get(p).total();
    }

    /** Every phase's counts, in the order the phases were entered. */
    synchronized String report() {
        StringBuilder text = new StringBuilder();
        tallies.forEach((p, tally) -> text.append(String.format("  %-40s %s%n", p, tally)));
        return text.toString();
    }

    synchronized List<String> wrongDecisions() {
        return List.copyOf(wrongDecisions);
    }

    /** Probe of the denied plain-HTTP requests, which httpbin.org must never have logged. */
    String deniedProbe() {
        return probePrefix + "-denied";
    }

    String allowedProbe() {
        return probePrefix + "-allowed";
    }

    private void run() {
        while (running.get()) {
            for (Request request : requests) {
                String sentIn = phase;
                String url = request.url();
                if (url.startsWith("http://")) {
                    sent++;
                    url += (url.contains("?") ? "&" : "?") + "p=" + (request.allowed() ? allowedProbe() : deniedProbe())
                            + "-" + sent;
                }
                Pod.CurlResult result = pod.curl(url, request.curlArgs().toArray(String[]::new));
                record(sentIn, request, result);
            }
        }
    }

    private synchronized void record(String sentIn, Request request, Pod.CurlResult result) {
        Tally tally = tallies.get(sentIn);
        if (request.allowed()) {
            if (result.ok()) {
                tally.allowedPassed++;
            } else {
                tally.allowedRefused++;
                wrongDecisions.add(sentIn + ": allowed " + request.description() + " was refused: " + result);
            }
        } else {
            if (result.denied()) {
                tally.deniedRefused++;
            } else {
                tally.deniedPassed++;
                wrongDecisions.add(sentIn + ": denied " + request.description() + " was let through: " + result);
            }
        }
    }

    /**
     * Stops after the request under way. Does not throw InterruptedException: try-with-resources would
     * lose it under a test failure; the interrupt is kept on the thread instead.
     */
    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
