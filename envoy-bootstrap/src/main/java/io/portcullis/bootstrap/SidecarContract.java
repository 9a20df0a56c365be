package io.portcullis.bootstrap;

/**
 * What the control plane may rely on in every sidecar it configures: settings the bootstrap writes
 * and the translator validates against, so the two can never disagree.
 */
public final class SidecarContract {

    /**
     * The port of the outbound listener every sidecar is served over xDS, and so the port the
     * interception rules redirect the app's outbound TCP to. One port for every sidecar: rules for any
     * other port would send the app's connections to a port no listener binds.
     */
    public static final int OUTBOUND_PORT = 15001;

    /** The UID the sidecar's Envoy runs as unless configured otherwise; its traffic is not intercepted. */
    public static final int DEFAULT_PROXY_UID = 1337;

    /**
     * The port of the sidecar's health listener, on every address: {@code GET /ready} there is answered by
     * Envoy's admin {@code /ready} (200 once the first config from the control plane is in place), so a
     * kubelet can probe readiness and liveness while the admin API itself stays on loopback.
     */
    public static final int HEALTH_PORT = 15021;

    /** The path of {@link #HEALTH_PORT} that answers readiness; nothing else is served there. */
    public static final String READINESS_PATH = "/ready";

    /** Envoy's runtime key for the largest RE2 program a safe_regex may compile to (Envoy refuses larger). */
    public static final String REGEX_PROGRAM_SIZE_RUNTIME_KEY = "re2.max_program_size.error_level";

    /**
     * The largest RE2 program size (instructions, as RE2::ProgramSize() counts them) a policy regex may
     * compile to. Envoy's default of 100 refuses ordinary API paths: /v2/[a-z0-9]+/manifests/[a-zA-Z0-9_.-]{1,128}
     * is 661. 1024 admits such realistic paths
     * while still bounding the memory and matching time of every regex a policy author can write
     * (RE2 matching is linear in program size times input length).
     */
    public static final int REGEX_MAX_PROGRAM_SIZE = 1024;

    /**
     * The runtime key of the percentage (0-100) of allowed connections and requests a sidecar writes to its decision
     * log (refusals are always written). The listeners' sampling filters name it; the control plane serves it over
     * RTDS in the layer {@link SidecarBootstrap#RTDS_LAYER}, set to the MeshConfig's
     * {@code spec.observability.egressDecisionLog.allowedSamplePercent}.
     */
    public static final String DECISION_SAMPLE_RUNTIME_KEY = "portcullis.decision_log.allowed_sample_percent";

    private SidecarContract() {}
}
