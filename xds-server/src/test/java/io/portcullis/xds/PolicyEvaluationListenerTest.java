package io.portcullis.xds;

import static io.portcullis.xds.FailClosedOnNackTest.egress;
import static io.portcullis.xds.FailClosedOnNackTest.routeGroup;
import static io.portcullis.xds.FailClosedOnNackTest.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.validation.PolicyProblem;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A status reporter sees exactly what the control plane enforces: each snapshot, its problems, each rejection. */
class PolicyEvaluationListenerTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");

    private final EgressControlPlane controlPlane = new EgressControlPlane();
    private final List<PolicyEvaluation> seen = new ArrayList<>();

    @Test
    void aListenerGetsTheCurrentEvaluationAtOnceThenOnePerConfigChangeWithTheSnapshotAndItsProblems() {
        controlPlane.onEvaluation(seen::add);
        assertThat(seen)
                .singleElement()
                .satisfies(e -> assertThat(e.snapshot().egresses()).isEmpty());

        controlPlane.apply(update(egress("httpbin-80", "httpbin.org", "missing")));

        assertThat(seen).hasSize(2);
        PolicyEvaluation latest = seen.get(1);
        assertThat(latest.snapshot().egresses())
                .extracting(e -> e.getMetadata().getName())
                .containsExactly("httpbin-80");
        assertThat(latest.validated().problems()).singleElement().satisfies(p -> {
            assertThat(p.resource()).isEqualTo(new ResourceKey("Egress", "curl", "httpbin-80"));
            assertThat(p.cause()).isEqualTo(PolicyProblem.Cause.ROUTE_GROUP_NOT_FOUND);
        });
        assertThat(latest).isEqualTo(controlPlane.evaluation());
    }

    @Test
    void aPolicyQuarantinedAfterAnEnvoyRejectionIsInTheNextEvaluation() {
        controlPlane.apply(update(egress("httpbin-80", "httpbin.org", "get-only") + routeGroup("get-only", "/get")));
        controlPlane.ensureServed(CURL);
        controlPlane.onEvaluation(seen::add);
        String version =
                controlPlane.served(CURL).orElseThrow().resources().versions().routes();

        controlPlane.rejected(
                CURL, "sidecar~curl~curl~curl-1", Resources.V3.ROUTE_TYPE_URL, version, "regex too big for Envoy");
        controlPlane.awaitIdle(); // the answer to a NACK is built on the translation thread

        assertThat(seen).hasSize(2);
        assertThat(seen.get(0).quarantined()).isEmpty();
        assertThat(seen.get(1).quarantined()).singleElement().satisfies(q -> {
            assertThat(q.policy()).isEqualTo(new ResourceKey("Egress", "curl", "httpbin-80"));
            assertThat(q.envoyMessage()).isEqualTo("regex too big for Envoy");
        });
    }
}
