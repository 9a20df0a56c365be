package io.portcullis.kubernetes;

import io.portcullis.source.SourceEvent;
import io.portcullis.source.SourceEvents;
import io.portcullis.source.SourceUpdate;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes what the informers hold, from one thread, coalescing changes.
 *
 * <p>Why one thread that drains a single "changed" mark: an informer delivers one event per object
 * (hundreds in a row after a relist or a {@code kubectl apply -f dir/}), and each published snapshot
 * costs a full translation in the control plane. Event handlers only set the mark; this thread clears
 * it, then builds the update from the informers' stores (which fabric8 updates before it calls the
 * handlers), then publishes. Every event that arrives while it builds or while the listener
 * translates sets the mark again, so a burst of N events costs one or two updates instead of N, with
 * no timer to tune: the slower the listener, the more is coalesced. Nothing is lost either: a change
 * that lands after the stores were read has set the mark after it was cleared, so it is built next
 * time round. An update equal to the last one published (a status write, a resync) is not published.
 */
final class CoalescingPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CoalescingPublisher.class);

    private final Supplier<SourceUpdate> build;
    private final Consumer<SourceUpdate> listener;
    private final SourceEvents events;
    private final CountDownLatch firstPublished = new CountDownLatch(1);
    private boolean changed;
    private boolean running = true;
    private SourceUpdate lastPublished;
    private Thread thread;

    CoalescingPublisher(Supplier<SourceUpdate> build, Consumer<SourceUpdate> listener) {
        this(build, listener, SourceEvents.NONE);
    }

    CoalescingPublisher(Supplier<SourceUpdate> build, Consumer<SourceUpdate> listener, SourceEvents events) {
        this.build = build;
        this.listener = listener;
        this.events = events;
    }

    /** Something in a store changed: build and publish again (soon, once, however often this is called). */
    synchronized void markChanged() {
        changed = true;
        notifyAll();
    }

    /** Starts the thread and publishes the first update from it; returns once that is done. */
    void startAndPublishFirst(long timeout, TimeUnit unit) throws InterruptedException {
        markChanged();
        thread =
                Thread.ofPlatform().name("kubernetes-config-publisher").daemon().start(this::run);
        if (!firstPublished.await(timeout, unit)) {
            throw new IllegalStateException("the first config snapshot from the API server was not applied within "
                    + unit.toSeconds(timeout) + " s");
        }
    }

    private void run() {
        while (true) {
            synchronized (this) {
                while (running && !changed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (!running) {
                    return;
                }
                changed = false;
            }
            publish();
        }
    }

    private void publish() {
        try {
            SourceUpdate update = build.get();
            if (!Objects.equals(update, lastPublished)) {
                listener.accept(update);
                lastPublished = update;
                events.happened(SourceEvent.UPDATE_APPLIED);
            } else {
                events.happened(SourceEvent.UPDATE_UNCHANGED);
            }
            firstPublished.countDown();
        } catch (RuntimeException e) {
            // The thread must outlive one failed update; the next change publishes everything again.
            events.happened(SourceEvent.APPLY_FAILED);
            LOG.error("applying the config from the API server failed; it is applied again on the next change", e);
            lastPublished = null;
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            running = false;
            notifyAll();
        }
        if (thread != null) {
            thread.interrupt();
        }
    }
}
