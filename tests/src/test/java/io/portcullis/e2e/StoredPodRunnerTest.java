package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class StoredPodRunnerTest {

    @Test
    void expandsDefinedVariablesLikeTheKubeletAndLeavesShellSyntaxAlone() {
        Map<String, String> env = Map.of("POD_NAME", "curl-1");
        assertThat(StoredPodRunner.expand("--pod=$(POD_NAME)", env)).isEqualTo("--pod=curl-1");
        assertThat(StoredPodRunner.expand("$(UNDEFINED) $$(POD_NAME)", env)).isEqualTo("$(UNDEFINED) $(POD_NAME)");
        assertThat(StoredPodRunner.expand("rules=$(portcullis iptables --proxy-uid 1337)\n\"$POD_NAME\"", env))
                .isEqualTo("rules=$(portcullis iptables --proxy-uid 1337)\n\"$POD_NAME\"");
    }
}
