package io.portcullis.e2e;

/** The manifests of the Flomesh egress guide, verbatim, plus the server-first policy for the SSH step. */
final class Manifests {

    private Manifests() {
    }

    static final String ENABLE_EGRESS_POLICY =
            "{\"spec\":{\"featureFlags\":{\"enableEgressPolicy\":true},\"traffic\":{\"enableEgress\":false}}}";
    static final String ENABLE_PASSTHROUGH =
            "{\"spec\":{\"featureFlags\":{\"enableEgressPolicy\":true},\"traffic\":{\"enableEgress\":true}}}";

    static final String HTTPBIN_80 = """
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: httpbin-80
              namespace: curl
            spec:
              sources:
              - kind: ServiceAccount
                name: curl
                namespace: curl
              hosts:
              - httpbin.org
              ports:
              - number: 80
                protocol: http
            """;

    static final String HTTPBIN_443 = """
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: httpbin-443
              namespace: curl
            spec:
              sources:
              - kind: ServiceAccount
                name: curl
                namespace: curl
              hosts:
              - httpbin.org
              ports:
              - number: 443
                protocol: https
            """;

    static final String TCP_443 = """
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: tcp-443
              namespace: curl
            spec:
              sources:
              - kind: ServiceAccount
                name: curl
                namespace: curl
              ports:
              - number: 443
                protocol: tcp
            """;

    static final String ROUTE_GROUP_AND_HTTPBIN_80_WITH_MATCHES = """
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: HTTPRouteGroup
            metadata:
              name: egress-http-route
              namespace: curl
            spec:
              matches:
              - name: get
                pathRegex: /get
            ---
            kind: Egress
            apiVersion: policy.flomesh.io/v1alpha1
            metadata:
              name: httpbin-80
              namespace: curl
            spec:
              sources:
              - kind: ServiceAccount
                name: curl
                namespace: curl
              hosts:
              - httpbin.org
              ports:
              - number: 80
                protocol: http
              matches:
              - apiGroup: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                name: egress-http-route
            """;

    static final String ROUTE_GROUP_WITH_STATUS = """
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: HTTPRouteGroup
            metadata:
              name: egress-http-route
              namespace: curl
            spec:
              matches:
              - name: get
                pathRegex: /get
              - name: status
                pathRegex: /status.*
            """;

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
