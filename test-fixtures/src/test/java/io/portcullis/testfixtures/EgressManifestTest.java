package io.portcullis.testfixtures;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class EgressManifestTest {

    @Test
    void theDefaultsWriteTheGuidesFirstEgressByteForByte() throws IOException {
        String guide = Files.readString(Path.of("../deploy/examples/fsm-egress-guide/01-http-egress.yaml"));
        String withoutComments =
                guide.lines().filter(l -> !l.startsWith("#")).collect(Collectors.joining("\n", "", "\n"));
        assertThat(EgressManifest.named("httpbin-80")
                        .host("httpbin.org")
                        .port(80, "http")
                        .yaml())
                .isEqualTo(withoutComments);
    }

    @Test
    void everyPartATestVariesIsWritten() {
        assertThat(EgressManifest.named("ssh")
                        .namespace("ops")
                        .fromServiceAccount("sleep", "curl")
                        .ipAddress("198.18.0.22/32")
                        .port(22, "tcp-server-first")
                        .matchesRouteGroup("routes")
                        .yaml())
                .isEqualTo("""
                        kind: Egress
                        apiVersion: policy.flomesh.io/v1alpha1
                        metadata:
                          name: ssh
                          namespace: ops
                        spec:
                          sources:
                          - kind: ServiceAccount
                            name: sleep
                            namespace: curl
                          ipAddresses:
                          - 198.18.0.22/32
                          ports:
                          - number: 22
                            protocol: tcp-server-first
                          matches:
                          - apiGroup: specs.smi-spec.io/v1alpha4
                            kind: HTTPRouteGroup
                            name: routes
                        """);
    }
}
