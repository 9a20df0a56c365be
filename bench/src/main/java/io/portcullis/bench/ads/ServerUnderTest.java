package io.portcullis.bench.ads;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control plane under test: {@code java -jar <jar> serve} on a directory, or {@code serve} through the
 * launcher {@code scripts/install-cli} installed for that jar (which adds its start-up cache), as its own
 * process (so its CPU, RSS and heap are its own; the launcher execs the JVM, so the process is the JVM), plaintext xDS on loopback and the debug endpoint for readiness and /metrics.
 * The same ports are kept across restarts, so sidecars reconnect to where they were.
 */
final class ServerUnderTest implements AutoCloseable {

    /** Wall-clock time (seconds, ms precision) the config source last delivered an update; newer servers only. */
    static final String LAST_UPDATE_GAUGE = "portcullis_config_source_last_update_timestamp_seconds";
    /** The CPU the server's translation threads spent on config updates so far, in seconds. */
    static final String APPLY_CPU_SUM = "portcullis_config_apply_cpu_seconds_sum";

    private static final Pattern RSS = Pattern.compile("(?m)^VmRSS:\\s+(\\d+) kB");
    private static final Pattern THREADS = Pattern.compile("(?m)^Threads:\\s+(\\d+)");
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    private final Path jar;
    private final Path launcher;
    private final Path configDir;
    private final Path log;
    private final List<String> jvmOptions;
    private final int xdsPort;
    private final int debugPort;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;

    /** @param launcher the installed launcher of {@code jar}, or null to run {@code java -jar} */
    ServerUnderTest(Path jar, Path launcher, Path configDir, Path log, List<String> jvmOptions) {
        this.jar = jar;
        this.launcher = launcher;
        this.configDir = configDir;
        this.log = log;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.xdsPort = freePort();
        this.debugPort = freePort();
    }

    int xdsPort() {
        return xdsPort;
    }

    /** Starts the server process; returns at once (see {@link #awaitReady}). */
    void launch() {
        List<String> command = new ArrayList<>();
        if (launcher == null) {
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmOptions);
            command.addAll(List.of("-jar", jar.toString()));
        } else {
            command.add(launcher.toString());
        }
        command.addAll(List.of(
                "serve",
                "--config-dir",
                configDir.toString(),
                "--insecure-plaintext-xds",
                "--xds-address",
                "127.0.0.1",
                "--xds-port",
                Integer.toString(xdsPort),
                "--debug-port",
                Integer.toString(debugPort),
                "--replica-name",
                "bench"));
        try {
            ProcessBuilder builder = new ProcessBuilder(command);
            if (launcher != null) {
                // The launcher runs $JAVA_HOME/bin/java (the JDK its cache was built for) with these options.
                builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
                builder.environment().put("PORTCULLIS_JAVA_OPTIONS", String.join(" ", jvmOptions));
            }
            process = builder.redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /**
     * Waits until the debug endpoint answers: serve opens it after the first snapshot is applied and the
     * xDS server listens, so from then on a sidecar is served.
     */
    void awaitReady(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the server exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (get("/metrics").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(20);
        }
        throw new TimeoutException("the server did not answer on its debug port within " + timeout + "; see " + log);
    }

    /** A gauge or counter of /metrics, without labels; empty when the server has no such metric. */
    OptionalDouble metric(String name) {
        try {
            Matcher line = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$")
                    .matcher(get("/metrics").body());
            return line.find() ? OptionalDouble.of(Double.parseDouble(line.group(1))) : OptionalDouble.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Waits until the server counts {@code sidecars} connected sidecars. */
    void awaitConnected(int sidecars, Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (metric("portcullis_sidecars_connected").orElse(-1) == sidecars) {
                    return;
                }
            } catch (UncheckedIOException e) {
                // restarting: not listening yet
            }
            Thread.sleep(20);
        }
        throw new TimeoutException("the server does not count " + sidecars + " sidecars within " + timeout);
    }

    /** User plus system CPU of the server process so far, in milliseconds (/proc/PID/stat). */
    double cpuMillis() {
        String stat = read(Path.of("/proc", Long.toString(process.pid()), "stat"));
        // Fields after the command name (which may hold spaces) start at its closing parenthesis.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14, 15)
        return ticks * 1000.0 / ProcStats.CLOCK_TICKS_PER_SECOND;
    }

    /** Every server thread's CPU so far (see {@link ThreadCpu}). */
    ThreadCpu threadCpu() {
        return ThreadCpu.of(process.pid());
    }

    /** Resident set size of the server process, KiB (/proc/PID/status VmRSS). */
    long rssKiB() {
        Matcher matcher = RSS.matcher(read(Path.of("/proc", Long.toString(process.pid()), "status")));
        if (!matcher.find()) {
            throw new IllegalStateException("no VmRSS in /proc/" + process.pid() + "/status");
        }
        return Long.parseLong(matcher.group(1));
    }

    /** How many threads the server process has (/proc/PID/status Threads): each costs its stack. */
    long threads() {
        Matcher matcher = THREADS.matcher(read(Path.of("/proc", Long.toString(process.pid()), "status")));
        if (!matcher.find()) {
            throw new IllegalStateException("no Threads in /proc/" + process.pid() + "/status");
        }
        return Long.parseLong(matcher.group(1));
    }

    /**
     * When the server runs with {@code -XX:NativeMemoryTracking}, writes its {@code VM.native_memory summary}
     * to {@code file}: where the RSS goes (heap, threads, metaspace, code, Netty's direct buffers under
     * "Other"). Without that option, writes nothing.
     */
    void nativeMemorySummary(Path file) throws IOException, InterruptedException {
        if (jvmOptions.stream().anyMatch(option -> option.startsWith("-XX:NativeMemoryTracking="))) {
            Files.writeString(file, jcmd("VM.native_memory summary"));
        }
    }

    /** Live heap: a full GC, then the heap's used KiB (jcmd GC.run, GC.heap_info). */
    long liveHeapKiB() throws IOException, InterruptedException {
        jcmd("GC.run");
        Matcher matcher = HEAP_USED.matcher(jcmd("GC.heap_info"));
        if (!matcher.find()) {
            throw new IllegalStateException("jcmd GC.heap_info printed no 'used NK'");
        }
        return Long.parseLong(matcher.group(1));
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process run = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), command)
                .redirectErrorStream(true)
                .start();
        String out = new String(run.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!run.waitFor(60, TimeUnit.SECONDS) || run.exitValue() != 0) {
            throw new IllegalStateException("jcmd " + command + " failed: " + out);
        }
        return out;
    }

    /** SIGKILL, as a crash or an OOM kill; returns once the process is gone. */
    void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    /** SIGTERM, as a rolling update stops it; SIGKILL if it has not exited after 20 s. */
    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    kill();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + debugPort + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String read(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
