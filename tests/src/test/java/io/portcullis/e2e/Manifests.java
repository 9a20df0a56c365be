package io.portcullis.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The Flomesh egress guide's manifests, read verbatim from deploy/examples, plus the manifests of our extra steps. */
final class Manifests {

    private Manifests() {}

    private static final Path GUIDE =
            Path.of(System.getProperty("portcullis.examples", "../deploy/examples/fsm-egress-guide"));

    /** The guide's {@code kubectl patch meshconfig} argument. */
    static final String ENABLE_EGRESS_POLICY =
            guide("meshconfig-merge-patch.json").trim();

    static final String ENABLE_PASSTHROUGH =
            "{\"spec\":{\"featureFlags\":{\"enableEgressPolicy\":true},\"traffic\":{\"enableEgress\":true}}}";

    static final String HTTPBIN_80 = guide("01-http-egress.yaml");
    static final String HTTPBIN_443 = guide("02-https-egress.yaml");
    static final String TCP_443 = guide("03-tcp-egress.yaml");
    static final String ROUTE_GROUP_AND_HTTPBIN_80_WITH_MATCHES = guide("04-http-route-group-and-egress.yaml");
    static final String ROUTE_GROUP_WITH_STATUS = guide("05-http-route-group-updated.yaml");

    private static String guide(String file) {
        try {
            return Files.readString(GUIDE.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException("guide manifest missing: " + GUIDE.resolve(file), e);
        }
    }

    /** Invalid on purpose: an unknown protocol and a bad CIDR. */
    static final String BAD_EGRESS = """
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: bad-protocol
              namespace: curl
            spec:
              sources:
              - kind: ServiceAccount
                name: curl
                namespace: curl
              hosts:
              - flomesh.io
              ipAddresses:
              - 198.18.0.300/24
              ports:
              - number: 443
                protocol: htps
            """;

    static final String SSH_SERVER_FIRST = """
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: ssh-22
              namespace: curl
            spec:
              sources:
              - kind: ServiceAccount
                name: curl
                namespace: curl
              ipAddresses:
              - 198.18.0.22/32
              ports:
              - number: 22
                protocol: tcp-server-first
            """;
}
