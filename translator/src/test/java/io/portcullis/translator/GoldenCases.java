package io.portcullis.translator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.MeshConfig;
import io.portcullis.crds.Namespaces;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * The golden translation cases under {@code src/test/resources/testdata/<case>/}: {@code input.yaml}
 * (kubectl-style manifests), {@code identities.txt} (one {@code namespace/serviceAccount} per line,
 * no comments) and {@code expected.yaml} (the {@link TranslationReport} of translating the input for
 * those identities). Shared by {@link GoldenTranslationTest} and {@link EnvoyAcceptsGoldenConfigTest}.
 */
final class GoldenCases {

    static final Path TESTDATA = Path.of(System.getProperty("basedir", "."), "src", "test", "resources", "testdata");

    /** Same property the envoy-bootstrap golden files use. */
    static final boolean UPDATE = Boolean.getBoolean("portcullis.updateGolden");

    private GoldenCases() {}

    /** Every case directory, sorted by name; fails if there are none (a wrong working directory). */
    static Stream<GoldenCase> all() {
        try (Stream<Path> dirs = Files.list(TESTDATA)) {
            List<GoldenCase> cases = dirs.filter(Files::isDirectory)
                    .sorted()
                    .map(dir -> new GoldenCase(dir.getFileName().toString(), dir))
                    .toList();
            assertThat(cases)
                    .as("no golden cases under %s", TESTDATA.toAbsolutePath())
                    .isNotEmpty();
            return cases.stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static GoldenCase named(String name) {
        return all().filter(c -> c.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no golden case " + name));
    }

    record GoldenCase(String name, Path dir) {

        Path input() {
            return dir.resolve("input.yaml");
        }

        Path identitiesFile() {
            return dir.resolve("identities.txt");
        }

        Path expected() {
            return dir.resolve("expected.yaml");
        }

        List<ServiceAccountRef> identities() {
            assertThat(identitiesFile())
                    .as("case %s needs identities.txt", name)
                    .exists();
            try {
                List<ServiceAccountRef> identities = Files.readAllLines(identitiesFile()).stream()
                        .map(String::strip)
                        .filter(line -> !line.isEmpty())
                        .map(ServiceAccountRef::parse)
                        .toList();
                assertThat(identities)
                        .as("%s lists no identity", identitiesFile())
                        .isNotEmpty();
                return identities;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * Parses input.yaml. A manifest the reader rejects fails the case: bad-input cases are meant to
         * exercise the translator's validation, so their manifests must get past the reader.
         */
        ResourceSnapshot snapshot() {
            assertThat(input()).as("case %s needs input.yaml", name).exists();
            ManifestSet manifests;
            try {
                manifests = new ManifestReader().read(Files.readString(input()), input().toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (manifests.hasProblems()) {
                fail(
                        "%s: the manifest reader rejected documents (fix the test input):%n%s",
                        input(),
                        String.join(
                                "\n",
                                manifests.problems().stream()
                                        .map(Object::toString)
                                        .toList()));
            }
            assertThat(manifests.ignored()).as("%s: ignored documents", input()).isEmpty();
            // As the directory source does in production: no namespace means "default" (the MeshConfig: the mesh's).
            manifests.resources().forEach(resource -> Namespaces.fillIn(resource, MeshConfig.DEFAULT_NAMESPACE));
            List<MeshConfig> meshConfigs = manifests.resourcesOf(MeshConfig.class);
            assertThat(meshConfigs).as("%s: at most one MeshConfig", input()).hasSizeLessThanOrEqualTo(1);
            // Namespace manifests set audit mode, as in the directory source (an invalid value would be
            // reported there; a golden input must not have one).
            io.portcullis.crds.NamespaceEgressModes modes = io.portcullis.crds.NamespaceEgressModes.of(
                    manifests.resourcesOf(io.fabric8.kubernetes.api.model.Namespace.class));
            assertThat(modes.problems())
                    .as("%s: Namespace annotations", input())
                    .isEmpty();
            return ResourceSnapshot.of(
                            meshConfigs.isEmpty() ? null : meshConfigs.get(0),
                            manifests.resourcesOf(Egress.class),
                            manifests.resourcesOf(HTTPRouteGroup.class))
                    .withAuditedNamespaces(modes.audited());
        }

        Translation translate() {
            return new EgressTranslator().translate(snapshot(), identities());
        }

        /** The same resources in reverse document order: translation must not depend on it. */
        Translation translateReversed() {
            ResourceSnapshot snapshot = snapshot();
            List<Egress> egresses = new ArrayList<>(snapshot.egresses());
            List<HTTPRouteGroup> groups = new ArrayList<>(snapshot.routeGroups());
            Collections.reverse(egresses);
            Collections.reverse(groups);
            List<ServiceAccountRef> identities = new ArrayList<>(identities());
            Collections.reverse(identities);
            return new EgressTranslator()
                    .translate(
                            new ResourceSnapshot(snapshot.mesh(), egresses, groups, snapshot.auditedNamespaces()),
                            identities);
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
