package io.portcullis.envoy;

import java.util.List;

/**
 * The decision log's contract: the JSON fields each sidecar writes, one object per line on stdout, and
 * the same facts sent to the control plane over Envoy's gRPC access log service (ALS), where they are
 * custom tags named {@link #TAG_PREFIX} + field. docs/observability.md documents it for users; the
 * control plane's ALS receiver reads it from here, so writer and reader cannot drift apart.
 */
public final class DecisionLog {

    /** The gRPC access log's {@code log_name}: how the control plane tells decision entries from others. */
    public static final String ALS_LOG_NAME = "portcullis-egress-decisions";

    /** Prefix of the ALS custom tags carrying the fields below. */
    public static final String TAG_PREFIX = "portcullis.";

    // JSON field names, in the order they are written.
    public static final String TIME = "time";
    public static final String IDENTITY = "identity";
    public static final String DESTINATION = "destination";
    public static final String PROTOCOL = "protocol";
    public static final String SNI = "sni";
    public static final String HOST = "host";
    public static final String METHOD = "method";
    public static final String PATH = "path";
    public static final String DECISION = "decision";
    public static final String POLICY = "policy";
    public static final String MATCH = "match";
    public static final String REASON = "reason";
    public static final String RESPONSE_CODE = "response_code";

    public static final List<String> FIELDS = List.of(
            TIME,
            IDENTITY,
            DESTINATION,
            PROTOCOL,
            SNI,
            HOST,
            METHOD,
            PATH,
            DECISION,
            POLICY,
            MATCH,
            REASON,
            RESPONSE_CODE);

    // Values of the decision field.
    public static final String ALLOW = "allow";
    public static final String DENY = "deny";
    /** Audit mode: strict mode would have refused this, but it was let through. */
    public static final String WOULD_DENY = "would_deny";

    // Values of the protocol field.
    public static final String TCP = "tcp";
    public static final String TLS = "tls";
    public static final String HTTP = "http";

    private DecisionLog() {}
}
