package io.portcullis.bench.ads;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Every thread's user plus system CPU of one process at one moment (/proc/PID/task/TID/stat), so that a window's
 * CPU can be told apart by what the threads do. A JVM's CPU in a burst is not all the work asked of it: at the
 * start of a storm the JIT compiler threads compile the serving path, and the GC threads collect what it
 * allocated; only the kinds below say which share is which.
 *
 * @param ticks per thread id: its name (as the kernel keeps it, 15 characters) and its CPU in clock ticks
 */
record ThreadCpu(Map<String, Named> ticks) {

    record Named(String name, long ticks) {}

    /**
     * What a thread does, by its name: the JVM's own threads (HotSpot names them), gRPC's Netty event loops, the
     * server's pools (named in xds-server), in this order; the first match wins.
     */
    enum Kind {
        JIT("JIT compiler", "C1 CompilerThre", "C2 CompilerThre"),
        GC("GC", "GC Thread", "G1 "),
        EVENT_LOOPS("gRPC event loops", "grpc-default-wo", "grpc-default-bo", "grpc-nio-worker", "nioEventLoopGro"),
        XDS_CALLS("xDS calls", "portcullis-xds-"),
        TRANSLATION("translation", "portcullis-tran", "portcullis-buil"),
        CONFIG_SOURCE("config source", "config-dir-"),
        OTHER("other");

        private final String label;
        private final ImmutableList<String> prefixes;

        Kind(String label, String... prefixes) {
            this.label = label;
            this.prefixes = ImmutableList.copyOf(prefixes);
        }

        static Kind of(String threadName) {
            for (Kind kind : values()) {
                if (kind.prefixes.stream().anyMatch(threadName::startsWith)) {
                    return kind;
                }
            }
            return OTHER;
        }
    }

    /** The threads of process {@code pid} now; a thread that ends while they are read is left out. */
    static ThreadCpu of(long pid) {
        Map<String, Named> ticks = new HashMap<>();
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        try (Stream<Path> threads = Files.list(tasks)) {
            for (Path thread : threads.toList()) {
                try {
                    String stat = Files.readString(thread.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
                    // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name
                    ticks.put(
                            thread.getFileName().toString(),
                            new Named(name, Long.parseLong(fields[11]) + Long.parseLong(fields[12])));
                } catch (NoSuchFileException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            return new ThreadCpu(Map.of());
        }
        return new ThreadCpu(Map.copyOf(ticks));
    }

    /**
     * The CPU each kind of thread used since {@code before}, in milliseconds, largest first. A thread that
     * started since counts from zero; one that ended since is missing (its CPU is lost to this split, not to the
     * process total the rows report).
     */
    Map<Kind, Double> since(ThreadCpu before) {
        Map<Kind, Double> millis = new HashMap<>();
        ticks.forEach((tid, now) -> {
            Named then = before.ticks.get(tid);
            long used = now.ticks() - (then == null || !then.name().equals(now.name()) ? 0 : then.ticks());
            millis.merge(Kind.of(now.name()), used * 1000.0 / ProcStats.CLOCK_TICKS_PER_SECOND, Double::sum);
        });
        return millis.entrySet().stream()
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<Kind, Double>comparingByValue().reversed())
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
    }

    /** E.g. "JIT compiler 41%, GC 17%, gRPC event loops 16%": the shares of what {@link #since} counted. */
    static String shares(Map<Kind, Double> millis) {
        double total = millis.values().stream().mapToDouble(Double::doubleValue).sum();
        if (total == 0) {
            return "no thread CPU";
        }
        return millis.entrySet().stream()
                .map(e -> String.format(Locale.ROOT, "%s %.0f%%", e.getKey().label, 100 * e.getValue() / total))
                .collect(Collectors.joining(", "));
    }
}
