package io.portcullis.bench.jmh;

import io.portcullis.bench.MeshGenerator;
import io.portcullis.bench.MeshShape;
import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.MeshConfig;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.translator.Translation;
import io.portcullis.validation.ValidatedPolicies;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The translation stages one at a time, on the reference mesh (100 identities, 200 or 10,000
 * policies, written by {@link MeshGenerator} as the files {@code portcullis serve --config-dir} reads).
 *
 * <p>Only {@link EgressTranslator}'s public methods and {@link ManifestReader} are called, never anything
 * newer: the same class must compile and run against the translator before issue 8 (commit aa06d76), so
 * that before and after are measured by one benchmark. Every input a stage needs is prepared once per
 * trial by the stages before it, so each benchmark times its own stage only.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TranslationBenchmarks {

    /** The reference mesh: 100 identities x 10 pods (pods do not matter to translation). */
    static final int IDENTITIES = 100;

    static final int PODS_PER_IDENTITY = 10;

    /** The identity whose model and resources are built: one of the 100, with policies/100 policies. */
    static final int ONE_IDENTITY = 3;

    @Param({"200", "10000"})
    public int policies;

    private Path directory;
    private List<Path> files;
    private EgressTranslator translator;
    private ResourceSnapshot snapshot;
    private ValidatedPolicies validated;
    private ServiceAccountRef identity;
    private SidecarEgressModel model;
    private List<ServiceAccountRef> identities;

    @Setup(Level.Trial)
    public void writeAndPrepare() throws IOException {
        MeshShape shape = new MeshShape(IDENTITIES, PODS_PER_IDENTITY, policies);
        directory = Files.createTempDirectory("portcullis-jmh-");
        MeshGenerator.writeTo(directory, shape);
        try (Stream<Path> listing = Files.list(directory)) {
            files = listing.sorted().toList();
        }
        translator = new EgressTranslator();
        snapshot = read(files);
        validated = translator.validate(snapshot);
        if (!validated.problems().isEmpty()) {
            // A benchmark of rejected input would time the error path: refuse to measure it.
            throw new IllegalStateException("generated mesh has problems: " + validated.problems());
        }
        identity = shape.identity(ONE_IDENTITY);
        model = translator.model(validated, identity);
        identities = IntStream.range(0, IDENTITIES).mapToObj(shape::identity).toList();
    }

    @TearDown(Level.Trial)
    public void deleteDirectory() throws IOException {
        try (Stream<Path> walk = Files.walk(directory)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    /** Every manifest file read and parsed, as the directory source does on a full reload. */
    @Benchmark
    public ResourceSnapshot readManifests() {
        return read(files);
    }

    /** Validation of every policy, route group and the MeshConfig. */
    @Benchmark
    public ValidatedPolicies validate() {
        return translator.validate(snapshot);
    }

    /** One identity's model from the validated policies. */
    @Benchmark
    public SidecarEgressModel modelOfOneIdentity() {
        return translator.model(validated, identity);
    }

    /** One identity's Envoy listener, routes and clusters from its model. */
    @Benchmark
    public SidecarResources envoyResourcesOfOneIdentity() {
        return translator.resources(model);
    }

    /** Validation, then model and Envoy resources of all 100 identities: a full translation. */
    @Benchmark
    public Translation translateAllIdentities() {
        return translator.translate(snapshot, identities);
    }

    private static ResourceSnapshot read(List<Path> files) {
        ManifestReader reader = new ManifestReader();
        List<Egress> egresses = new ArrayList<>();
        List<HTTPRouteGroup> groups = new ArrayList<>();
        MeshConfig mesh = null;
        for (Path file : files) {
            ManifestSet set;
            try {
                set = reader.read(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            egresses.addAll(set.resourcesOf(Egress.class));
            groups.addAll(set.resourcesOf(HTTPRouteGroup.class));
            mesh = set.resourcesOf(MeshConfig.class).stream().findFirst().orElse(mesh);
        }
        return ResourceSnapshot.of(mesh, egresses, groups);
    }
}
