package io.portcullis.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.portcullis.input.ResourceKey;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Origins print as the strings Envoy route names and denial logs have always carried. */
class OriginTest {

    @Test
    void aPolicyOriginPrintsAsKubectlNamesTheEgress() {
        PolicyOrigin origin = PolicyOrigin.of(new ResourceKey("Egress", "curl", "httpbin-80"));

        assertThat(origin).hasToString("Egress curl/httpbin-80");
        assertThat(origin.resource()).isEqualTo(new ResourceKey("Egress", "curl", "httpbin-80"));
    }

    @Test
    void onlyAnEgressIsAPolicyOrigin() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PolicyOrigin.of(new ResourceKey("HTTPRouteGroup", "curl", "api")));
    }

    /** Route names join origins in this order; sorting field by field would put curl/x first and rename routes. */
    @Test
    void policyOriginsSortAsTheirPrintedNames() {
        TreeSet<PolicyOrigin> origins = new TreeSet<>(List.of(
                new PolicyOrigin("curl", "x"), new PolicyOrigin("curl-a", "x"), new PolicyOrigin("curl", "a.b")));

        assertThat(origins.stream().map(PolicyOrigin::toString))
                .containsExactly("Egress curl-a/x", "Egress curl/a.b", "Egress curl/x");
    }

    @Test
    void anHttpMatchOriginNamesItsEntryByNameElseByIndex() {
        assertThat(new HttpMatchOrigin("curl", "api", 2, Optional.of("read")))
                .hasToString("HTTPRouteGroup:curl/api#read");
        assertThat(new HttpMatchOrigin("curl", "api", 2, Optional.empty())).hasToString("HTTPRouteGroup:curl/api#2");
    }
}
