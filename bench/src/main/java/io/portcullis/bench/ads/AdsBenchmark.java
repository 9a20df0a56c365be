package io.portcullis.bench.ads;

import io.portcullis.bench.MeshGenerator;
import io.portcullis.bench.MeshShape;
import io.portcullis.bench.report.BenchPart;
import io.portcullis.bench.report.BenchRow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The ADS load generator: a control plane ({@code portcullis serve} from a given jar, its own process) and
 * N simulated Envoy sidecars in this JVM, for each mesh size the scenarios of issue 8, written as
 * {@code <results dir>/ads.json} (bench/README.md). docs/benchmarks.md says what each row measures.
 */
@Command(
        name = "ads",
        mixinStandardHelpOptions = true,
        description = "ADS load generator: N simulated sidecars against portcullis serve; writes ads.json")
public final class AdsBenchmark implements Callable<Integer> {

    private static final Duration QUIET = Duration.ofMillis(300);
    private static final Duration CHANGE_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration IDLE_WINDOW = Duration.ofSeconds(3);

    @Option(names = "--results-dir", required = true, description = "Where ads.json and the server logs go.")
    Path resultsDir;

    @Option(
            names = "--server-jar",
            defaultValue = "cli/target/portcullis.jar",
            description = "The portcullis jar whose serve is measured (default: ${DEFAULT-VALUE}).")
    Path serverJar;

    @Option(
            names = "--server-launcher",
            description = "The portcullis launcher scripts/install-cli installed for the server jar"
                    + " (PREFIX/bin/portcullis): serve then starts from the start-up cache built at install, as an"
                    + " installed control plane does. Without it: java -jar, no cache.")
    Path serverLauncher;

    @Option(names = "--label", defaultValue = "", description = "before, after, ...: recorded in ads.json.")
    String label;

    @Option(names = "--smoke", description = "Tiny sizes and 2 repetitions: it runs, it reports (CI).")
    boolean smoke;

    @Option(names = "--identities", defaultValue = "100")
    int identities;

    @Option(names = "--pods", defaultValue = "10", description = "Sidecars per identity.")
    int pods;

    @Option(names = "--policies", split = ",", defaultValue = "200,10000", description = "Mesh sizes, in policies.")
    List<Integer> policies;

    @Option(names = "--reps-identity", defaultValue = "20")
    int repsIdentity;

    @Option(names = "--reps-mesh", defaultValue = "10")
    int repsMesh;

    @Option(names = "--reps-storm", defaultValue = "3")
    int repsStorm;

    @Option(
            names = "--client-warmup-storms",
            defaultValue = "1",
            description = "Unmeasured storms against a throwaway server before the measured ones, so that the"
                    + " simulated sidecars' own JVM has compiled its gRPC client (Envoy has no JIT to warm).")
    int clientWarmupStorms;

    @Option(names = "--reps-restart", defaultValue = "3")
    int repsRestart;

    @Option(names = "--reps-start", defaultValue = "3")
    int repsStart;

    @Option(
            names = "--warmup-changes",
            defaultValue = "20",
            description = "Unmeasured changes (MeshConfig, then single identities) before the measured ones.")
    int warmupChanges;

    @Option(names = "--server-jvm-option", description = "A JVM option for the server, repeatable.")
    List<String> serverJvmOptions = new ArrayList<>();

    private final BenchClock clock = new BenchClock();
    private final List<BenchRow> rows = new ArrayList<>();
    private int failedScenarios;

    public static void main(String[] args) {
        System.exit(new CommandLine(new AdsBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (smoke) {
            identities = 4;
            pods = 5;
            policies = List.of(20);
            repsIdentity = 2;
            repsMesh = 2;
            repsStorm = 2;
            clientWarmupStorms = 1;
            repsRestart = 1;
            repsStart = 1;
            warmupChanges = 1;
        }
        if (!Files.isRegularFile(serverJar)) {
            throw new IllegalArgumentException("no server jar at " + serverJar + " (mvn -DskipTests package)");
        }
        Files.createDirectories(resultsDir);
        String started = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        for (int policyCount : policies) {
            MeshShape shape = new MeshShape(identities, pods, policyCount);
            log("mesh " + shape + ", server " + serverJar
                    + (serverLauncher == null ? " (java -jar)" : " (through " + serverLauncher + ")"));
            new SizeRun(shape).run();
            // Written after each size, so a later size that crashes leaves the earlier figures.
            new BenchPart("ads", label, started, machine() + serverStart(), rows).write(resultsDir.resolve("ads.json"));
        }
        // Numbers are never judged here; a scenario that could not run is (its row says why).
        return failedScenarios == 0 ? 0 : 1;
    }

    /** Every scenario at one mesh size, on one config directory and one server. */
    private final class SizeRun {

        private final MeshShape shape;
        private final String size;
        private final Path configDir;
        private final int[] generations;
        private int meshGeneration;

        SizeRun(MeshShape shape) {
            this.shape = shape;
            this.size = shape.sidecars() + " sidecars, " + shape.policies() + " policies";
            this.configDir = resultsDir.resolve("ads-mesh-" + shape.policies());
            this.generations = new int[shape.policies()];
        }

        void run() throws Exception {
            MeshGenerator.writeTo(configDir, shape);
            Path serverLog = resultsDir.resolve("ads-server-" + shape.policies() + ".log");
            try (ServerUnderTest server =
                            new ServerUnderTest(serverJar, serverLauncher, configDir, serverLog, serverJvmOptions);
                    SidecarFleet fleet = new SidecarFleet(shape, server.xdsPort(), clock)) {
                boolean warm = scenario("client warm-up storms", () -> clientWarmUp(server, fleet));
                boolean connected = warm && scenario("connect storm", () -> connectStorm(server, fleet));
                if (connected) {
                    scenario("warm-up", () -> warmUp(server, fleet));
                    scenario("one identity's policy changed", () -> identityChanges(server, fleet));
                    scenario("MeshConfig changed", () -> meshChanges(server, fleet));
                    scenario("connect storm to a warm server", () -> warmServerStorms(server, fleet));
                    scenario("restart", () -> restarts(server, fleet));
                }
                scenario("start", () -> starts(server, fleet));
            }
        }

        /** Runs one scenario; a failure becomes a row saying so, and the other scenarios still run. */
        private boolean scenario(String name, Scenario scenario) {
            long start = clock.nanos();
            try {
                scenario.run();
                log(String.format(
                        Locale.ROOT, "  %s: done in %.1f s", name, BenchClock.millis(start, clock.nanos()) / 1000));
                return true;
            } catch (Exception e) {
                log("  " + name + " FAILED: " + e);
                failedScenarios++;
                rows.add(BenchRow.failed(name, size, "ms", ProcStats.loadAverage(), "FAILED: " + e.getMessage()));
                return false;
            }
        }

        /**
         * Storms like the measured ones, not measured, each against a fresh server that is then stopped. The
         * simulated sidecars stand in for Envoys, which are compiled ahead of time and run on their own machines;
         * this JVM, on the same two cores as the server, would otherwise spend the first measured storm's CPU
         * compiling its own gRPC client (C2 compiler threads were a large share of its CPU then), which says
         * nothing about the server. The server of every measured storm is still a fresh, cold process.
         */
        void clientWarmUp(ServerUnderTest server, SidecarFleet fleet) throws Exception {
            for (int rep = 0; rep < clientWarmupStorms; rep++) {
                server.launch();
                server.awaitReady(START_TIMEOUT);
                fleet.startAll();
                fleet.awaitConfigured(fleet.all(), START_TIMEOUT);
                fleet.awaitQuiet(Duration.ofSeconds(1));
                fleet.stopAll();
                server.close();
            }
        }

        /**
         * Every sidecar's streams closed, then all opened again at once, on the server that served everything
         * so far (its JIT warm, every identity built): what a fleet-wide reconnect costs a running control plane,
         * e.g. after a network partition heals. Set beside the storm on a fresh server, the difference is what a
         * cold JVM costs.
         */
        void warmServerStorms(ServerUnderTest server, SidecarFleet fleet) throws Exception {
            List<Double> first = new ArrayList<>();
            List<Double> last = new ArrayList<>();
            List<String> stormCpu = new ArrayList<>();
            List<Double> rssPerSidecar = new ArrayList<>();
            List<String> memoryNotes = new ArrayList<>();
            for (int rep = 0; rep < repsStorm; rep++) {
                fleet.awaitQuiet(QUIET);
                fleet.stopAll();
                server.awaitConnected(0, START_TIMEOUT);
                // After a full GC on both sides (which also lets G1 give back what MaxHeapFreeRatio says), so the
                // difference is what N connected sidecars hold, not what the warm-up compiled or loaded once.
                long heapIdle = server.liveHeapKiB();
                long rssIdle = server.rssKiB();
                Storm storm = storm(server, fleet);
                stormCpu.add(storm.cpu());
                first.add(storm.firstMillis());
                last.add(storm.lastMillis());
                server.awaitConnected(fleet.size(), START_TIMEOUT);
                fleet.awaitQuiet(Duration.ofSeconds(1));
                long heapConnected = server.liveHeapKiB();
                long rssConnected = server.rssKiB();
                rssPerSidecar.add((rssConnected - rssIdle) / (double) fleet.size());
                memoryNotes.add("RSS " + rssIdle + " -> " + rssConnected + " KiB, heap " + heapIdle + " -> "
                        + heapConnected + " KiB");
            }
            String load = ProcStats.loadAverage();
            rows.add(BenchRow.single(
                            "server RSS per connected sidecar on a warm server ((RSS with N - RSS with 0) / N, each"
                                    + " after a full GC)",
                            size,
                            "KiB",
                            median(rssPerSidecar),
                            load)
                    .withTarget("< 50 KiB")
                    .withNote("median of " + repsStorm + "; 0 -> N connected: " + String.join("; ", memoryNotes)));
            rows.add(BenchRow.distribution(
                            "connect storm to a warm server: every stream closed and opened again -> last has a "
                                    + "complete config",
                            size,
                            "ms",
                            last,
                            load)
                    .withCpu(String.join("; ", stormCpu)));
            rows.add(BenchRow.distribution(
                    "connect storm to a warm server: every stream closed and opened again -> first has a complete "
                            + "config",
                    size,
                    "ms",
                    first,
                    load));
        }

        /**
         * N sidecars connect at once to a server that is up and idle; time from the first dial to the first
         * and to the last sidecar holding a complete config. A fresh server each time (the first request of
         * an identity is what costs). The last one stays up, with every sidecar connected, for what follows;
         * memory is measured on it: without sidecars, then with N.
         */
        void connectStorm(ServerUnderTest server, SidecarFleet fleet) throws Exception {
            List<Double> first = new ArrayList<>();
            List<Double> last = new ArrayList<>();
            // Memory per sidecar on every storm's server, not only the last: one sample of a JVM's RSS moves by
            // megabytes with a GC or a JIT burst, so a single figure said little.
            List<Double> rssPerSidecar = new ArrayList<>();
            List<Double> heapPerSidecar = new ArrayList<>();
            List<String> memoryNotes = new ArrayList<>();
            List<String> stormCpu = new ArrayList<>();
            double idleCpuPerSecond = 0;
            for (int rep = 0; rep < repsStorm; rep++) {
                server.launch();
                server.awaitReady(START_TIMEOUT);
                long heapIdle = server.liveHeapKiB();
                long rssIdle = server.rssKiB();
                long threadsIdle = server.threads();
                server.nativeMemorySummary(resultsDir.resolve("ads-nmt-" + shape.policies() + "-" + rep + "-idle.txt"));
                if (rep == repsStorm - 1) {
                    double cpu = server.cpuMillis();
                    Thread.sleep(IDLE_WINDOW.toMillis()); // a measurement window, not a wait for something
                    idleCpuPerSecond = (server.cpuMillis() - cpu) / IDLE_WINDOW.toSeconds();
                }
                Storm storm = storm(server, fleet);
                stormCpu.add(storm.cpu());
                first.add(storm.firstMillis());
                last.add(storm.lastMillis());
                fleet.awaitQuiet(Duration.ofSeconds(1));
                server.awaitConnected(fleet.size(), START_TIMEOUT);
                long heapConnected = server.liveHeapKiB();
                long rssConnected = server.rssKiB();
                long threadsConnected = server.threads();
                server.nativeMemorySummary(
                        resultsDir.resolve("ads-nmt-" + shape.policies() + "-" + rep + "-connected.txt"));
                rssPerSidecar.add((rssConnected - rssIdle) / (double) fleet.size());
                heapPerSidecar.add((heapConnected - heapIdle) / (double) fleet.size());
                memoryNotes.add("RSS " + rssIdle + " -> " + rssConnected + " KiB, heap " + heapIdle + " -> "
                        + heapConnected + " KiB, threads " + threadsIdle + " -> " + threadsConnected);
                if (rep < repsStorm - 1) {
                    fleet.stopAll();
                    server.close();
                }
            }
            String load = ProcStats.loadAverage();
            rows.add(BenchRow.distribution(
                            "connect storm: N sidecars dial an idle server -> last has a complete config",
                            size,
                            "ms",
                            last,
                            load)
                    .withTarget("< 2 s")
                    .withCpu(String.join("; ", stormCpu)));
            rows.add(BenchRow.distribution(
                    "connect storm: N sidecars dial an idle server -> first has a complete config",
                    size,
                    "ms",
                    first,
                    load));
            String perStorm = "median of " + repsStorm + " storms (a fresh server each); idle -> with N: "
                    + String.join("; ", memoryNotes);
            rows.add(BenchRow.single(
                            "server RSS per connected sidecar ((RSS with N - RSS with 0) / N)",
                            size,
                            "KiB",
                            median(rssPerSidecar),
                            load)
                    .withTarget("< 50 KiB")
                    .withNote(perStorm));
            rows.add(BenchRow.single(
                            "server live heap per connected sidecar (after a full GC, with N - with 0) / N",
                            size,
                            "KiB",
                            median(heapPerSidecar),
                            load)
                    .withTarget("< 20 KiB")
                    .withNote(perStorm));
            rows.add(BenchRow.single("server CPU while idle (rescans), per second", size, "ms", idleCpuPerSecond, load)
                    .withNote("subtract from the CPU per change rows to get the change's own cost"));
        }

        /** One storm's figures: from the first dial to the first and the last sidecar configured, and its CPU. */
        private record Storm(double firstMillis, double lastMillis, String cpu) {}

        /** Every sidecar of the fleet opens its streams at once; returns once all hold a complete config. */
        private Storm storm(ServerUnderTest server, SidecarFleet fleet) throws Exception {
            StormCpu cpu = StormCpu.start(server);
            long dial = clock.nanos();
            fleet.startAll();
            SidecarFleet.Span span = fleet.awaitConfigured(fleet.all(), START_TIMEOUT);
            // Both processes share the cores: how much of the storm's CPU is the simulated sidecars' own.
            String used = cpu.end(server);
            return new Storm(
                    BenchClock.millis(dial, span.firstNanos()), BenchClock.millis(dial, span.lastNanos()), used);
        }

        /**
         * The CPU of a storm, server and client, and the server's by kind of thread: both processes share the
         * cores, and a cold server's storm is mostly its JIT compiling the serving path.
         */
        private record StormCpu(double server, double client, ThreadCpu serverThreads) {

            static StormCpu start(ServerUnderTest server) {
                return new StormCpu(server.cpuMillis(), ProcStats.ownCpuMillis(), server.threadCpu());
            }

            String end(ServerUnderTest server) {
                return String.format(
                        Locale.ROOT,
                        "%.0f ms server (%s) / %.0f ms client",
                        server.cpuMillis() - this.server,
                        ThreadCpu.shares(server.threadCpu().since(serverThreads)),
                        ProcStats.ownCpuMillis() - client);
            }
        }

        private static double median(List<Double> samples) {
            double[] sorted =
                    samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return sorted.length % 2 == 1
                    ? sorted[sorted.length / 2]
                    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        }

        /**
         * Changes like the measured ones, not measured: a control plane runs for days, and its first changes
         * after a start cost mostly the JIT compiling the change path (C2 compiler threads were ~90% of the
         * process's CPU over the first 20 identity changes at 10,000 policies), which says nothing about what a
         * change costs. MeshConfig changes first (now only the RTDS push: the sample rate is in no listener), then
         * identity changes, which warm the build path.
         */
        void warmUp(ServerUnderTest server, SidecarFleet fleet) throws Exception {
            Changes discarded = new Changes();
            int meshChanges = Math.max(1, warmupChanges / 4);
            for (int rep = 0; rep < meshChanges; rep++) {
                meshChange(server, fleet, discarded);
            }
            for (int rep = 0; rep < warmupChanges; rep++) {
                identityChange(server, fleet, discarded, rep);
            }
        }

        /** One identity's policy file replaced; its sidecars (and only they) should get a new config. */
        void identityChanges(ServerUnderTest server, SidecarFleet fleet) throws Exception {
            if (shape.policies() == 0) {
                return;
            }
            Changes changes = new Changes();
            for (int rep = 0; rep < repsIdentity; rep++) {
                identityChange(server, fleet, changes, rep);
            }
            changes.report(
                    "one identity's policy changed -> all " + shape.podsPerIdentity() + " of its sidecars have it",
                    "p99 < 100 ms",
                    "< 20 ms");
        }

        private void identityChange(ServerUnderTest server, SidecarFleet fleet, Changes changes, int rep)
                throws Exception {
            if (shape.policies() == 0) {
                return;
            }
            int identity = rep % Math.min(shape.identities(), shape.policies());
            int policy = shape.firstPolicyOf(identity);
            generations[policy] = (generations[policy] + 1) % (MeshGenerator.MAX_GENERATION + 1);
            String content = MeshGenerator.policy(shape, policy, generations[policy]);
            changes.measure(
                    server,
                    fleet,
                    fleet.ofIdentity(identity),
                    () -> MeshGenerator.replace(configDir, MeshGenerator.policyFile(policy), content));
        }

        /**
         * The MeshConfig's decision log sample rate changed: no listener carries it, so the change reaches every
         * sidecar as the RTDS runtime layer; measured until all hold the layer with the new rate.
         */
        void meshChanges(ServerUnderTest server, SidecarFleet fleet) throws Exception {
            Changes changes = new Changes();
            for (int rep = 0; rep < repsMesh; rep++) {
                meshChange(server, fleet, changes);
            }
            changes.report("MeshConfig changed -> all " + fleet.size() + " sidecars have it", "p99 < 1 s", null);
        }

        private void meshChange(ServerUnderTest server, SidecarFleet fleet, Changes changes) throws Exception {
            meshGeneration++;
            String content = MeshGenerator.meshConfig(meshGeneration);
            String layer = MeshGenerator.runtimeLayerVersion(meshGeneration);
            changes.measure(
                    server,
                    fleet,
                    fleet.all(),
                    () -> MeshGenerator.replace(configDir, MeshGenerator.MESH_CONFIG_FILE, content),
                    sidecar -> layer.equals(sidecar.runtimeVersion()));
        }

        /**
         * The server SIGKILLed with every sidecar connected and started again on the same ports; sidecars
         * re-open their streams (back-off at most 1 s) resuming the versions they hold. End point: the server
         * counts all N connected again (polled every 20 ms).
         */
        void restarts(ServerUnderTest server, SidecarFleet fleet) throws Exception {
            List<Double> fromLaunch = new ArrayList<>();
            for (int rep = 0; rep < repsRestart; rep++) {
                fleet.awaitQuiet(QUIET);
                server.kill();
                long launch = clock.nanos();
                server.launch();
                server.awaitConnected(fleet.size(), START_TIMEOUT);
                long all = clock.nanos();
                fromLaunch.add(BenchClock.millis(launch, all));
            }
            String load = ProcStats.loadAverage();
            rows.add(BenchRow.distribution(
                    "restart: server killed and started again -> all N sidecars reconnected (from the new process's start)",
                    size,
                    "ms",
                    fromLaunch,
                    load));
        }

        /**
         * Sidecars already dialling (fresh, no config, retrying as Envoy does) when the server process
         * starts; time from the process start to the first and the last holding a complete config.
         */
        void starts(ServerUnderTest server, SidecarFleet fleet) throws Exception {
            List<Double> first = new ArrayList<>();
            List<Double> last = new ArrayList<>();
            List<String> startCpu = new ArrayList<>();
            for (int rep = 0; rep < repsStart; rep++) {
                server.close();
                fleet.stopAll();
                fleet.startAll(); // they fail, and retry every 0.25-1 s
                Thread.sleep(1000); // let every sidecar fail once, so all are in their retry loop
                long launch = clock.nanos();
                server.launch();
                SidecarFleet.Span span = fleet.awaitConfigured(fleet.all(), START_TIMEOUT);
                first.add(BenchClock.millis(launch, span.firstNanos()));
                last.add(BenchClock.millis(launch, span.lastNanos()));
                // Threads that ended before this (the parallel readers) are missing from the split, not the total.
                startCpu.add(String.format(
                        Locale.ROOT,
                        "%.0f ms server (threads alive at the end: %s)",
                        server.cpuMillis(),
                        ThreadCpu.shares(server.threadCpu().since(new ThreadCpu(Map.of())))));
            }
            String load = ProcStats.loadAverage();
            rows.add(BenchRow.distribution(
                            "start: server process started with N sidecars dialling -> last has a complete config",
                            size,
                            "ms",
                            last,
                            load)
                    .withTarget("< 5 s")
                    .withCpu(String.join("; ", startCpu)));
            rows.add(BenchRow.distribution(
                    "start: server process started with N sidecars dialling -> first has a complete config",
                    size,
                    "ms",
                    first,
                    load));
        }

        /** Latencies and CPU of one kind of change, repeated. */
        private final class Changes {
            private final List<Double> fromFile = new ArrayList<>();
            private final List<Double> fromControlPlane = new ArrayList<>();
            private final List<Double> ackedFromControlPlane = new ArrayList<>();
            private final List<Double> cpu = new ArrayList<>();
            private final List<Double> applyCpu = new ArrayList<>();
            private int othersDisturbed;
            private boolean noGauge;

            void measure(ServerUnderTest server, SidecarFleet fleet, List<SimulatedSidecar> group, Runnable change)
                    throws InterruptedException, TimeoutException {
                measure(server, fleet, group, change, sidecar -> true);
            }

            /** @param has whether a sidecar holds the change, besides having got a response since it was made */
            void measure(
                    ServerUnderTest server,
                    SidecarFleet fleet,
                    List<SimulatedSidecar> group,
                    Runnable change,
                    Predicate<SimulatedSidecar> has)
                    throws InterruptedException, TimeoutException {
                fleet.awaitQuiet(QUIET);
                int[] before = fleet.responseCounts(group);
                int[] everyone = fleet.responseCounts(fleet.all());
                // Scraped before the CPU window opens: a scrape of /metrics is work the change did not cause.
                OptionalDouble applyCpuBefore = server.metric(ServerUnderTest.APPLY_CPU_SUM);
                double cpuBefore = server.cpuMillis();
                long replaced = clock.nanos();
                change.run();
                long last = fleet.awaitChange(group, before, has, QUIET, CHANGE_TIMEOUT);
                cpu.add(server.cpuMillis() - cpuBefore);
                OptionalDouble applyCpuAfter = server.metric(ServerUnderTest.APPLY_CPU_SUM);
                if (applyCpuBefore.isPresent() && applyCpuAfter.isPresent()) {
                    applyCpu.add((applyCpuAfter.getAsDouble() - applyCpuBefore.getAsDouble()) * 1000);
                }
                fromFile.add(BenchClock.millis(replaced, last));
                long lastAck = group.stream()
                        .mapToLong(SimulatedSidecar::lastAckNanos)
                        .max()
                        .orElse(last);
                OptionalDouble received = server.metric(ServerUnderTest.LAST_UPDATE_GAUGE);
                double replacedWall = clock.wallMillis(replaced);
                if (received.isPresent() && received.getAsDouble() * 1000 >= replacedWall - 1) {
                    double receivedWall = received.getAsDouble() * 1000;
                    fromControlPlane.add(clock.wallMillis(last) - receivedWall);
                    ackedFromControlPlane.add(clock.wallMillis(lastAck) - receivedWall);
                } else {
                    noGauge = true;
                }
                List<SimulatedSidecar> all = fleet.all();
                int disturbed = 0;
                for (int i = 0; i < all.size(); i++) {
                    if (!group.contains(all.get(i)) && all.get(i).responses() > everyone[i]) {
                        disturbed++;
                    }
                }
                othersDisturbed = Math.max(othersDisturbed, disturbed);
            }

            void report(String what, String target, String cpuTarget) {
                String load = ProcStats.loadAverage();
                String cpuText = String.format(
                        Locale.ROOT,
                        "p50 %.0f ms/change",
                        BenchRow.distribution("", "", "", cpu, "").p50());
                String others = (othersDisturbed == 0
                        ? ""
                        : "; up to " + othersDisturbed + " other sidecars got a response too");
                rows.add(BenchRow.distribution(what + " (from the file replaced)", size, "ms", fromFile, load)
                        .withCpu(cpuText)
                        .withNote("includes the directory source's 1 s settle" + others));
                String fromReceived = what + " (from the control plane receiving the change)";
                if (noGauge) {
                    rows.add(BenchRow.failed(
                                    fromReceived,
                                    size,
                                    "ms",
                                    load,
                                    "n/a: the server has no " + ServerUnderTest.LAST_UPDATE_GAUGE)
                            .withTarget(target));
                } else {
                    rows.add(BenchRow.distribution(fromReceived, size, "ms", fromControlPlane, load)
                            .withCpu(cpuText)
                            .withTarget(target));
                    rows.add(BenchRow.distribution(
                            what + ", ACKed (from the control plane receiving the change)",
                            size,
                            "ms",
                            ackedFromControlPlane,
                            load));
                }
                BenchRow cpuRow = BenchRow.distribution("server CPU per change: " + what, size, "ms", cpu, load)
                        .withNote("user+system CPU from the file replaced until the sidecars were quiet "
                                + QUIET.toMillis() + " ms, idle rescans included");
                rows.add(cpuTarget == null ? cpuRow : cpuRow.withTarget(cpuTarget));
                String applyWhat = "server CPU per change, translation threads only: " + what;
                if (applyCpu.isEmpty()) {
                    BenchRow failed = BenchRow.failed(
                            applyWhat, size, "ms", load, "n/a: the server has no " + ServerUnderTest.APPLY_CPU_SUM);
                    rows.add(cpuTarget == null ? failed : failed.withTarget(cpuTarget));
                } else {
                    BenchRow applyRow = BenchRow.distribution(applyWhat, size, "ms", applyCpu, load)
                            .withNote("the server's own thread-CPU measure of enforcing the change (validation, "
                                    + "builds, cache update); no idle work, no file reading, no gRPC sending");
                    rows.add(cpuTarget == null ? applyRow : applyRow.withTarget(cpuTarget));
                }
            }
        }
    }

    @FunctionalInterface
    private interface Scenario {
        void run() throws Exception;
    }

    /** How the server was started: the start-up cache is part of what a start or a storm measures. */
    private String serverStart() {
        return serverLauncher == null
                ? "; server: java -jar (no start-up cache)"
                : "; server: the installed launcher (start-up cache of scripts/install-cli)";
    }

    private static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + ", Java " + System.getProperty("java.version");
    }

    private static void log(String line) {
        System.err.println("[ads " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "] " + line);
    }
}
