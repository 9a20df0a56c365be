package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.input.ServiceAccountRef;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A MeshConfig change of the egress switches touches every identity: each gets a new snapshot from one apply(),
 * rebuilt over the translation pool, and a change that leaves an identity's model as it was keeps its snapshot. A
 * change of the decision log's sample rate alone touches none: it goes to the sidecars over RTDS. Prints how long
 * the applies took; it asserts no timing. Sizes from {@code -Dportcullis.rebuild.identities} and
 * {@code -Dportcullis.rebuild.policiesPerIdentity} (defaults 20 x 20; the shape is 100 x 100).
 */
class MeshWideRebuildTest {

    private static final int IDENTITIES = Integer.getInteger("portcullis.rebuild.identities", 20);
    private static final int PER_IDENTITY = Integer.getInteger("portcullis.rebuild.policiesPerIdentity", 20);

    @Test
    void aMeshConfigChangeGivesEveryIdentityANewSnapshotFromOneApply() {
        EgressControlPlane controlPlane = new EgressControlPlane();
        String policies = ConcurrentServingTest.policies(IDENTITIES, PER_IDENTITY);

        long first = timed(() -> controlPlane.apply(FailClosedOnNackTest.update(policies + meshConfig(true, 0))));
        // A sidecar of each identity connects (all are prepared already, so this builds nothing).
        for (int i = 0; i < IDENTITIES; i++) {
            controlPlane.ensureServed(ConcurrentServingTest.identity(i));
        }
        controlPlane.awaitIdle();
        Map<ServiceAccountRef, String> before = versions(controlPlane);
        long meshChange = timed(() -> controlPlane.apply(FailClosedOnNackTest.update(policies + meshConfig(false, 0))));
        Map<ServiceAccountRef, String> after = versions(controlPlane);
        int builtBefore = recomputations(controlPlane);
        long sameAgain = timed(() -> controlPlane.apply(FailClosedOnNackTest.update(policies + meshConfig(false, 0))));

        assertThat(before).hasSize(IDENTITIES);
        assertThat(after).hasSize(IDENTITIES);
        before.forEach((identity, version) -> assertThat(after.get(identity))
                .as("new version for %s", identity)
                .isNotEqualTo(version));
        assertThat(versions(controlPlane))
                .as("the same config again changes nothing")
                .isEqualTo(after);
        assertThat(recomputations(controlPlane))
                .as("an unchanged config recomputes nobody")
                .isEqualTo(builtBefore);
        System.out.printf(
                "MeshWideRebuildTest: %d identities x %d policies, %d builder threads, load %.2f: first apply %d ms, "
                        + "MeshConfig change %d ms, same config again %d ms%n",
                IDENTITIES,
                PER_IDENTITY,
                TranslationThreads.defaultBuilderThreads(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage(),
                first / 1_000_000,
                meshChange / 1_000_000,
                sameAgain / 1_000_000);
    }

    @Test
    void aChangeOfTheSampleRateAloneRebuildsNoIdentityAndIsServedOverRtds() {
        EgressControlPlane controlPlane = new EgressControlPlane();
        String policies = ConcurrentServingTest.policies(IDENTITIES, PER_IDENTITY);
        controlPlane.apply(FailClosedOnNackTest.update(policies + meshConfig(true, 0)));
        for (int i = 0; i < IDENTITIES; i++) {
            controlPlane.ensureServed(ConcurrentServingTest.identity(i));
        }
        controlPlane.awaitIdle();
        Map<ServiceAccountRef, String> before = versions(controlPlane);
        int recomputedBefore = recomputations(controlPlane);

        long rateChange = timed(() -> controlPlane.apply(FailClosedOnNackTest.update(policies + meshConfig(true, 25))));

        assertThat(controlPlane.runtimeDiscovery().allowedPercent())
                .as("the RTDS layer serves the new rate")
                .isEqualTo(25);
        assertThat(versions(controlPlane))
                .as("every identity keeps its version")
                .isEqualTo(before);
        assertThat(recomputations(controlPlane)).as("no identity is recomputed").isEqualTo(recomputedBefore);
        System.out.printf(
                "MeshWideRebuildTest: %d identities x %d policies, load %.2f: sample rate change %d ms%n",
                IDENTITIES,
                PER_IDENTITY,
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage(),
                rateChange / 1_000_000);
    }

    private static Map<ServiceAccountRef, String> versions(EgressControlPlane controlPlane) {
        Map<ServiceAccountRef, String> versions = new HashMap<>();
        for (int i = 0; i < IDENTITIES; i++) {
            ServiceAccountRef identity = ConcurrentServingTest.identity(i);
            versions.put(
                    identity,
                    controlPlane.served(identity).orElseThrow().resources().version());
        }
        return versions;
    }

    private static int recomputations(EgressControlPlane controlPlane) {
        int sum = 0;
        for (int i = 0; i < IDENTITIES; i++) {
            sum += controlPlane.recomputations(ConcurrentServingTest.identity(i));
        }
        return sum;
    }

    private static long timed(Runnable apply) {
        long start = System.nanoTime();
        apply.run();
        return System.nanoTime() - start;
    }

    /**
     * @param enforced whether Egress policies are enforced; off (with egress passthrough on) changes every identity's
     *     listeners
     * @param sampling the decision log's sample rate, which is in no listener
     */
    private static String meshConfig(boolean enforced, int sampling) {
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
                  observability:
                    egressDecisionLog:
                      allowedSamplePercent: %d
                """.formatted(enforced, !enforced, sampling);
    }
}
