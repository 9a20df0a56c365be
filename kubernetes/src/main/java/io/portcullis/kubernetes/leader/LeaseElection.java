package io.portcullis.kubernetes.leader;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Contends for a coordination.k8s.io Lease with fabric8's LeaderElector, for as long as it runs.
 *
 * <p>fabric8's elector ends for good once it loses the Lease (for example when the API server was
 * unreachable past the renew deadline); this replica must contend again, or a short outage would leave it
 * a follower forever while the other replica might be gone too. So each lost round starts a new elector.
 * {@link #close()} releases the Lease (a graceful shutdown hands over at once); a killed process does not,
 * and the other replica takes over when the Lease expires.
 */
public final class LeaseElection implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseElection.class);

    private final KubernetesClient client;
    private final LeaseSettings settings;
    private final Leadership leadership;
    private final ScheduledExecutorService restarts = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "lease-election");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicBoolean leading = new AtomicBoolean();
    private volatile boolean closed;
    private volatile CompletableFuture<?> round;

    public LeaseElection(KubernetesClient client, LeaseSettings settings, Leadership leadership) {
        this.client = client;
        this.settings = settings;
        this.leadership = leadership;
    }

    public LeaseSettings settings() {
        return settings;
    }

    public void start() {
        LOG.info(
                "contending for Lease {}/{} as {} (duration {}, renew deadline {}, retry {})",
                settings.namespace(),
                settings.name(),
                settings.identity(),
                settings.leaseDuration(),
                settings.renewDeadline(),
                settings.retryPeriod());
        startRound();
    }

    // Neither returned future carries anything: the callback logs what happened, and a scheduled restart is
    // dropped by close() (shutdownNow). `round` keeps the elector's own future, whose cancel releases the Lease.
    @SuppressWarnings("FutureReturnValueIgnored")
    private synchronized void startRound() {
        if (closed) {
            return;
        }
        CompletableFuture<?> next = client.leaderElector()
                .withConfig(new LeaderElectionConfigBuilder()
                        .withName(settings.name())
                        .withLock(new LeaseLock(settings.namespace(), settings.name(), settings.identity()))
                        .withLeaseDuration(settings.leaseDuration())
                        .withRenewDeadline(settings.renewDeadline())
                        .withRetryPeriod(settings.retryPeriod())
                        .withReleaseOnCancel(true)
                        .withLeaderCallbacks(new LeaderCallbacks(this::started, this::stopped, this::observed))
                        .build())
                .build()
                .start();
        round = next;
        next.whenComplete((ignored, failure) -> {
            stopped();
            if (!closed) {
                LOG.warn(
                        "lost Lease {}/{}{}; contending again",
                        settings.namespace(),
                        settings.name(),
                        failure == null ? "" : " (" + failure + ")");
                restarts.schedule(this::startRound, settings.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
            }
        });
    }

    private void started() {
        if (leading.compareAndSet(false, true)) {
            LOG.info("{} now holds Lease {}/{}", settings.identity(), settings.namespace(), settings.name());
            leadership.startLeading();
        }
    }

    /** fabric8 may report the end of leadership twice (observed change, then the round ending). */
    private void stopped() {
        if (leading.compareAndSet(true, false)) {
            leadership.stopLeading();
        }
    }

    private void observed(String holder) {
        LOG.info("Lease {}/{} is held by {}", settings.namespace(), settings.name(), holder);
    }

    public boolean leading() {
        return leading.get();
    }

    /** Releases the Lease if held; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        CompletableFuture<?> current = round;
        if (current != null) {
            current.cancel(true);
        }
        stopped();
        restarts.shutdownNow();
    }
}
