package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.metrics.ControlPlaneMetrics;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Many identities, few models: each policy names every identity of its group, so the identities of a group have
 * equal models. A MeshConfig change, which changes every identity, translates one build per model (plus the
 * prepared deny config of identities no policy names), not one per identity; the versions of a group are one.
 * Prints the translation threads' CPU for the change; asserts no timing. Sizes from
 * {@code -Dportcullis.shared.identities}, {@code -Dportcullis.shared.models} and
 * {@code -Dportcullis.shared.policiesPerModel} (defaults 20, 4, 10; the report's shape is 100, 10, 100).
 */
class SharedModelsRebuildTest {

    private static final int IDENTITIES = Integer.getInteger("portcullis.shared.identities", 20);
    private static final int MODELS = Integer.getInteger("portcullis.shared.models", 4);
    private static final int PER_MODEL = Integer.getInteger("portcullis.shared.policiesPerModel", 10);
    /** How many MeshConfig changes are timed; the median is printed. */
    private static final int CHANGES = Integer.getInteger("portcullis.shared.changes", 1);

    @Test
    void aMeshConfigChangeTranslatesOneBuildPerModelNotOnePerIdentity() {
        EgressControlPlane controlPlane = new EgressControlPlane();
        String policies = policies();
        controlPlane.apply(FailClosedOnNackTest.update(policies + meshConfig(true)));
        for (int i = 0; i < IDENTITIES; i++) {
            controlPlane.ensureServed(identity(i));
        }
        controlPlane.awaitIdle();
        long[] cpu = new long[CHANGES];
        for (int change = 1; change <= CHANGES; change++) {
            // Passthrough and back: the sample rate would rebuild nothing (it is served over RTDS), so the
            // enforcement switch is the MeshConfig change that rebuilds every identity.
            controlPlane.apply(FailClosedOnNackTest.update(policies + meshConfig(false)));
            double translatedBefore = count(controlPlane, "translated");
            long cpuBefore = applyCpuNanos(controlPlane);

            controlPlane.apply(FailClosedOnNackTest.update(policies + meshConfig(true)));

            cpu[change - 1] = applyCpuNanos(controlPlane) - cpuBefore;
            assertThat(count(controlPlane, "translated") - translatedBefore)
                    .as("one translation per model and one for the prepared deny config")
                    .isEqualTo(MODELS + 1);
        }
        Map<Integer, String> versionOfModel = new HashMap<>();
        for (int i = 0; i < IDENTITIES; i++) {
            String version =
                    controlPlane.served(identity(i)).orElseThrow().resources().version();
            assertThat(versionOfModel.computeIfAbsent(i % MODELS, m -> version))
                    .as("identity %d is served its group's version", i)
                    .isEqualTo(version);
        }
        assertThat(versionOfModel.values()).doesNotHaveDuplicates();
        System.out.printf(
                "SharedModelsRebuildTest: %d identities sharing %d models x %d policies, load %.2f: MeshConfig change "
                        + "median of %d: %.1f ms translation CPU%n",
                IDENTITIES,
                MODELS,
                PER_MODEL,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                CHANGES,
                java.util.Arrays.stream(cpu).sorted().toArray()[CHANGES / 2] / 1e6);
    }

    static ServiceAccountRef identity(int i) {
        return new ServiceAccountRef("team-" + i % 5, "sa-" + i);
    }

    /** Model m: PER_MODEL policies, each naming every identity i with i % MODELS == m. */
    static String policies() {
        StringBuilder yaml = new StringBuilder();
        for (int m = 0; m < MODELS; m++) {
            for (int p = 0; p < PER_MODEL; p++) {
                yaml.append("---\nkind: Egress\napiVersion: policy.flomesh.io/v1alpha1\nmetadata:\n  name: egress-")
                        .append(m)
                        .append('-')
                        .append(p)
                        .append("\n  namespace: shop\nspec:\n  sources:\n");
                for (int i = m; i < IDENTITIES; i += MODELS) {
                    ServiceAccountRef identity = identity(i);
                    yaml.append("  - kind: ServiceAccount\n    name: ")
                            .append(identity.name())
                            .append("\n    namespace: ")
                            .append(identity.namespace())
                            .append('\n');
                }
                yaml.append("  hosts:\n  - api-")
                        .append(p)
                        .append(".example.com\n  ports:\n  - number: ")
                        .append(8000 + p % 7)
                        .append("\n    protocol: http\n");
            }
        }
        return yaml.toString();
    }

    private static double count(EgressControlPlane controlPlane, String outcome) {
        Counter counter = controlPlane
                .metrics()
                .registry()
                .find(ControlPlaneMetrics.RESOURCE_BUILDS)
                .tag("outcome", outcome)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    private static long applyCpuNanos(EgressControlPlane controlPlane) {
        Timer timer = controlPlane
                .metrics()
                .registry()
                .find(ControlPlaneMetrics.CONFIG_APPLY_CPU)
                .timer();
        return timer == null ? 0 : (long) timer.totalTime(TimeUnit.NANOSECONDS);
    }

    /** @param enforced whether Egress policies are enforced; off lets all egress through (passthrough) */
    private static String meshConfig(boolean enforced) {
        return """
                ---
                apiVersion: config.flomesh.io/v1alpha3
                kind: MeshConfig
                metadata:
                  name: fsm-mesh-config
                  namespace: fsm-system
                spec:
                  featureFlags:
                    enableEgressPolicy: %s
                  traffic:
                    enableEgress: %s
                """.formatted(enforced, !enforced);
    }
}
