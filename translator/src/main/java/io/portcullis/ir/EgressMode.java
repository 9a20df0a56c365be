package io.portcullis.ir;

/** What a sidecar does with traffic leaving the mesh, decided by MeshConfig. */
public enum EgressMode {
    /** {@code enableEgress: true}: every outside destination is reachable, policies are moot. */
    PASSTHROUGH,
    /** {@code enableEgressPolicy: true}: only what an Egress policy names is reachable. */
    POLICY,
    /** Neither switch on: nothing outside the mesh is reachable and policies are not consulted. */
    DENY_ALL
}
