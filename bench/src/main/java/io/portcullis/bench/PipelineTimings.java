package io.portcullis.bench;

import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.MeshConfig;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.SourceUpdate;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.validation.IncrementalPolicyValidator;
import io.portcullis.validation.ValidatedPolicies;
import io.portcullis.xds.EgressControlPlane;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A quick probe of the translation stages and the directory source's idle rescan at a large mesh (not JMH:
 * medians of a few repetitions after a warm-up, enough to see what dominates). Prints one line per figure
 * with the load average beside it.
 *
 * <p>{@code java -cp ... io.portcullis.bench.PipelineTimings [policies] [identities]}
 */
public final class PipelineTimings {

    private PipelineTimings() {}

    public static void main(String[] args) throws Exception {
        int policies = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int identities = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        MeshShape shape = new MeshShape(identities, 10, policies);
        Map<String, String> files = MeshGenerator.manifests(shape);
        ResourceSnapshot snapshot = read(files);
        EgressTranslator translator = new EgressTranslator();

        report("validate(snapshot), " + policies + " policies", () -> translator.validate(snapshot));
        ValidatedPolicies validated = translator.validate(snapshot);
        report("model + resources, all " + identities + " identities", () -> {
            for (int i = 0; i < identities; i++) {
                ServiceAccountRef identity = shape.identity(i);
                SidecarEgressModel model = translator.model(validated, identity);
                translator.resources(model);
            }
            return null;
        });
        report(
                "translate(snapshot, all identities)",
                () -> translator.translate(
                        snapshot,
                        java.util.stream.IntStream.range(0, identities)
                                .mapToObj(shape::identity)
                                .toList()));
        oneIdentityChanged(shape, snapshot);
        if (!Boolean.getBoolean("skipRescan")) {
            idleRescan(shape);
        }
    }

    /**
     * One policy (so one identity) changes: the incremental validator's revalidation, and the control plane's
     * whole apply of the update with every identity served (its thread's CPU time).
     */
    private static void oneIdentityChanged(MeshShape shape, ResourceSnapshot snapshot) {
        int policy = 1; // an https policy: one Egress, no route group
        List<ResourceSnapshot> generations = new ArrayList<>();
        for (int g = 1; g <= 2; g++) {
            Egress changed = read(Map.of("changed.yaml", MeshGenerator.policy(shape, policy, g)))
                    .egresses()
                    .get(0);
            List<Egress> egresses = new ArrayList<>(snapshot.egresses());
            egresses.replaceAll(
                    e -> e.getMetadata().getName().equals(changed.getMetadata().getName()) ? changed : e);
            generations.add(new ResourceSnapshot(snapshot.mesh(), egresses, snapshot.routeGroups()));
        }
        int[] next = {0};
        try {
            IncrementalPolicyValidator incremental = new IncrementalPolicyValidator();
            incremental.validate(snapshot);
            report(
                    "incremental validate, one policy changed",
                    () -> incremental.validate(generations.get(next[0]++ % 2)));
        } catch (LinkageError e) {
            System.out.println("incremental validate: not in this build (" + e + ")");
        }

        EgressControlPlane controlPlane = new EgressControlPlane();
        controlPlane.apply(new SourceUpdate(snapshot, List.of()));
        for (int i = 0; i < shape.identities(); i++) {
            controlPlane.ensureServed(shape.identity(i));
        }
        // The work runs on the translation threads, not the caller's: read their CPU from the control plane's
        // own measure of each applied update.
        io.micrometer.core.instrument.Timer applyCpu = controlPlane
                .metrics()
                .registry()
                .get(io.portcullis.metrics.ControlPlaneMetrics.CONFIG_APPLY_CPU)
                .timer();
        long[] cpu = new long[21];
        for (int i = 0; i < cpu.length; i++) {
            double before = applyCpu.totalTime(TimeUnit.NANOSECONDS);
            controlPlane.apply(new SourceUpdate(generations.get(next[0]++ % 2), List.of()));
            cpu[i] = (long) (applyCpu.totalTime(TimeUnit.NANOSECONDS) - before);
        }
        Arrays.sort(cpu);
        System.out.printf(
                "%-60s %8.1f ms CPU median (min %.1f, max %.1f)   (load %s)%n",
                "control plane apply, one identity changed (translation threads)",
                cpu[cpu.length / 2] / 1e6,
                cpu[0] / 1e6,
                cpu[cpu.length - 1] / 1e6,
                load());
    }

    /** CPU the directory watcher thread spends per second while nothing changes, at one file per policy. */
    private static void idleRescan(MeshShape shape) throws Exception {
        Path directory = Files.createTempDirectory("pipeline-timings");
        MeshGenerator.writeTo(directory, shape);
        CountDownLatch first = new CountDownLatch(1);
        try (DirectoryConfigSource source = new DirectoryConfigSource(directory, "fsm-system")) {
            source.start((SourceUpdate update) -> first.countDown());
            first.await(60, TimeUnit.SECONDS);
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            Thread watcher = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("config-dir-watch"))
                    .findFirst()
                    .orElseThrow();
            Thread.sleep(3000); // past the first scans
            long cpuBefore = threads.getThreadCpuTime(watcher.threadId());
            long wallBefore = System.nanoTime();
            Thread.sleep(10_000);
            long cpu = threads.getThreadCpuTime(watcher.threadId()) - cpuBefore;
            double seconds = (System.nanoTime() - wallBefore) / 1e9;
            System.out.printf(
                    "%-60s %8.1f ms CPU per second idle   (load %s)%n",
                    "directory watcher, " + shape.policies() + " files", cpu / 1e6 / seconds, load());
        }
    }

    private static void report(String what, Supplier<?> work) {
        int sink = 0;
        for (int i = 0; i < 5; i++) {
            sink ^= System.identityHashCode(work.get());
        }
        // The thread's CPU time, not wall time: on a shared machine wall time is mostly waiting for a core.
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long[] nanos = new long[11];
        for (int i = 0; i < nanos.length; i++) {
            long start = threads.getCurrentThreadCpuTime();
            sink ^= System.identityHashCode(work.get());
            nanos[i] = threads.getCurrentThreadCpuTime() - start;
        }
        Arrays.sort(nanos);
        System.out.printf(
                "%-60s %8.1f ms CPU median (min %.1f, max %.1f)   (load %s)%n",
                what, nanos[nanos.length / 2] / 1e6, nanos[0] / 1e6, nanos[nanos.length - 1] / 1e6, load());
        if (sink == 42) {
            System.out.print(""); // keeps the results alive for the JIT
        }
    }

    private static String load() {
        try {
            return String.join(
                    " ",
                    Arrays.asList(Files.readString(Path.of("/proc/loadavg")).split(" "))
                            .subList(0, 3));
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    static ResourceSnapshot read(Map<String, String> files) {
        ManifestReader reader = new ManifestReader();
        List<Egress> egresses = new ArrayList<>();
        List<HTTPRouteGroup> groups = new ArrayList<>();
        MeshConfig mesh = null;
        for (Map.Entry<String, String> file : files.entrySet()) {
            ManifestSet set = reader.read(file.getValue(), file.getKey());
            egresses.addAll(set.resourcesOf(Egress.class));
            groups.addAll(set.resourcesOf(HTTPRouteGroup.class));
            mesh = set.resourcesOf(MeshConfig.class).stream().findFirst().orElse(mesh);
        }
        return ResourceSnapshot.of(mesh, egresses, groups);
    }
}
