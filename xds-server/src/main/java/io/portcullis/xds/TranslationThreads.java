package io.portcullis.xds;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The threads that translate, so that no gRPC thread ever does: a sidecar's request only reads what these
 * threads published, and at most hands them work.
 *
 * <ul>
 *   <li>{@code coordinator} (one thread): config changes and what a NACK is answered with, in the order they
 *       arrive, so each sees the effect of the one before;
 *   <li>{@code builders} (a small fixed pool): the identities one config change touches, built in parallel (they
 *       are independent: one snapshot each);
 *   <li>{@code firstConfigs} (one thread): the snapshot of an identity whose first sidecar connected before it had
 *       one (an identity no policy names: deny-all, cheap), so it never queues behind a large reload.
 * </ul>
 *
 * Threads are daemons and end after a minute idle, so a control plane nobody closes (tests, tools) leaks none.
 */
final class TranslationThreads {

    private static final long IDLE_SECONDS = 60;

    private final ThreadPoolExecutor coordinator;
    private final ThreadPoolExecutor builders;
    private final ThreadPoolExecutor firstConfigs;
    private final ThreadMXBean threadCpu = ManagementFactory.getThreadMXBean();
    /** CPU the builders spent for the coordinator task now running; only the coordinator reads and resets it. */
    private final LongAdder buildCpuNanos = new LongAdder();

    TranslationThreads(int builderThreads) {
        coordinator = pool("portcullis-translation", 1);
        builders = pool("portcullis-build", builderThreads);
        firstConfigs = pool("portcullis-first-config", 1);
    }

    /** Builders for this machine: one per core up to four (identities are independent; more only adds garbage). */
    static int defaultBuilderThreads() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    void coordinate(Runnable task) {
        coordinator.execute(task);
    }

    /** Runs {@code task} on the coordinator and waits for it; never call this from a gRPC thread. */
    void coordinateAndWait(Runnable task) {
        await(CompletableFuture.runAsync(task, coordinator));
    }

    /**
     * As {@link #coordinateAndWait}, and returns the CPU time {@code task} cost: its own on the coordinator plus
     * that of every build it ran ({@link #buildAll}). Wall time would count the waits for a core on a busy
     * machine; this is what a change costs the server, whatever else runs beside it.
     */
    long coordinateAndWaitCpuNanos(Runnable task) {
        return await(CompletableFuture.supplyAsync(
                () -> {
                    buildCpuNanos.reset();
                    long start = cpuNanos();
                    task.run();
                    return cpuNanos() - start + buildCpuNanos.sum();
                },
                coordinator));
    }

    void firstConfig(Runnable task) {
        firstConfigs.execute(task);
    }

    /**
     * Runs every task on the builders and returns when all are done (from the coordinator only), even when one
     * fails: a build still running after its config change returned could publish after the next one.
     */
    void buildAll(Collection<Runnable> tasks) {
        List<Future<?>> running = new ArrayList<>(tasks.size());
        tasks.forEach(task -> running.add(builders.submit(() -> {
            long start = cpuNanos();
            try {
                task.run();
            } finally {
                buildCpuNanos.add(cpuNanos() - start);
            }
        })));
        RuntimeException failure = null;
        for (Future<?> build : running) {
            try {
                await(build);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Waits until everything handed over before this call is done: for tests and tools that look at the cache
     * after {@code ensureServed} or a NACK. A coordinator task waits for its builders, so two barriers suffice.
     */
    void awaitIdle() {
        await(CompletableFuture.runAsync(() -> {}, coordinator));
        await(CompletableFuture.runAsync(() -> {}, firstConfigs));
    }

    /** This thread's CPU time; 0 where the JVM cannot measure it (the figure is then 0, never wrong-but-plausible). */
    private long cpuNanos() {
        return threadCpu.isCurrentThreadCpuTimeSupported() ? threadCpu.getCurrentThreadCpuTime() : 0;
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the translation threads", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private static ThreadPoolExecutor pool(String name, int threads) {
        AtomicInteger count = new AtomicInteger();
        ThreadFactory factory = runnable -> {
            Thread thread = new Thread(runnable, threads == 1 ? name : name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
        ThreadPoolExecutor pool = new ThreadPoolExecutor(
                threads, threads, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), factory);
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
