package io.portcullis.envoy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ExtensionFilter;
import io.envoyproxy.envoy.config.accesslog.v3.OrFilter;
import io.envoyproxy.envoy.config.accesslog.v3.RuntimeFilter;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKey;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKind;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.input.ServiceAccountRef;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every egress decision a sidecar takes is reported three ways, all from the config Envoy runs: a JSON
 * line on stdout ({@link DecisionLog}'s fields), an entry to the control plane over the gRPC access log
 * service (the same facts as custom tags), and a count in the counter {@value #DECISIONS_STAT} of the
 * sidecar's stats. Denials are always logged; allowed traffic only at the mesh's sample rate, since
 * it is the bulk. The counter counts everything, unsampled.
 *
 * <p>Where the deciding facts come from: a TCP or TLS filter chain decides one thing for one policy, so
 * they are literals in its loggers; an HTTP request is decided by its route, whose metadata
 * ({@value #METADATA_NAMESPACE}) carries them, read by {@code %METADATA(ROUTE:portcullis:...)%}.
 */
final class AccessLogs {

    /** The filter_metadata namespace of routes carrying the decision facts. */
    static final String METADATA_NAMESPACE = "portcullis";

    /** The counter's name under {@link #STATS_PREFIX}; Prometheus shows {@code envoy_portcullis_egress_decisions}. */
    static final String DECISIONS_STAT = "egress_decisions";

    static final String STATS_PREFIX = "portcullis";

    /**
     * The stats tag value when no policy decided: empty, as {@code %METADATA(...)%} gives for a route without
     * a policy (the 403 of an unknown host), so Prometheus shows {@code policy=""} for every undecided refusal.
     * A literal cannot be empty; the connection of a TCP chain has no route, so this reads as empty there.
     */
    static final String NO_POLICY_TAG = "%METADATA(ROUTE:" + "portcullis" + ":policy)%";

    private static final String STATS_LOGGER_TYPE =
            "type.googleapis.com/envoy.extensions.access_loggers.stats.v3.Config";

    private AccessLogs() {}

    /** What one filter chain or route decides, as the decision log reports it. */
    record Decision(String protocol, String decision, String policy, String match, String reason) {}

    /**
     * The loggers of a TCP proxy whose chain takes one decision: every field that is not about the
     * connection itself is a literal.
     */
    static List<AccessLog> tcp(ServiceAccountRef identity, Decision decision, DecisionSampling sampling) {
        Map<String, Value> fields = new LinkedHashMap<>();
        fields.put(DecisionLog.TIME, format("%START_TIME%"));
        fields.put(DecisionLog.IDENTITY, string(identity.toString()));
        fields.put(DecisionLog.DESTINATION, format("%DOWNSTREAM_LOCAL_ADDRESS%"));
        fields.put(DecisionLog.PROTOCOL, string(decision.protocol()));
        fields.put(DecisionLog.SNI, format("%REQUESTED_SERVER_NAME%"));
        fields.put(DecisionLog.HOST, nullValue());
        fields.put(DecisionLog.METHOD, nullValue());
        fields.put(DecisionLog.PATH, nullValue());
        fields.put(DecisionLog.DECISION, string(decision.decision()));
        fields.put(DecisionLog.POLICY, decision.policy() == null ? nullValue() : string(decision.policy()));
        fields.put(DecisionLog.MATCH, decision.match() == null ? nullValue() : string(decision.match()));
        fields.put(DecisionLog.REASON, string(decision.reason()));
        fields.put(DecisionLog.RESPONSE_CODE, nullValue());
        AccessLogFilter filter = DecisionLog.ALLOW.equals(decision.decision()) ? sampling.allowedFilter() : null;

        List<CustomTag> tags = new ArrayList<>();
        tags.add(literalTag(DecisionLog.IDENTITY, identity.toString()));
        tags.add(literalTag(DecisionLog.PROTOCOL, decision.protocol()));
        tags.add(literalTag(DecisionLog.DECISION, decision.decision()));
        if (decision.policy() != null) {
            tags.add(literalTag(DecisionLog.POLICY, decision.policy()));
        }
        if (decision.match() != null) {
            tags.add(literalTag(DecisionLog.MATCH, decision.match()));
        }
        tags.add(literalTag(DecisionLog.REASON, decision.reason()));
        TcpGrpcAccessLogConfig grpc = TcpGrpcAccessLogConfig.newBuilder()
                .setCommonConfig(grpcCommon(tags))
                .build();

        return List.of(
                stdout(fields, filter),
                logger("envoy.access_loggers.tcp_grpc", EnvoyTypes.pack(grpc), filter),
                stats(
                        identity,
                        decision.protocol(),
                        decision.decision(),
                        decision.policy() == null ? NO_POLICY_TAG : decision.policy()));
    }

    /**
     * The loggers of an HTTP connection manager: the decision facts are the metadata of the route that
     * took the request ({@link #routeMetadata}). Refusals ({@code deny}, {@code would_deny}) are always
     * logged, allowed requests at the sample rate.
     */
    static List<AccessLog> http(ServiceAccountRef identity, DecisionSampling sampling) {
        Map<String, Value> fields = new LinkedHashMap<>();
        fields.put(DecisionLog.TIME, format("%START_TIME%"));
        fields.put(DecisionLog.IDENTITY, string(identity.toString()));
        fields.put(DecisionLog.DESTINATION, format("%DOWNSTREAM_LOCAL_ADDRESS%"));
        fields.put(DecisionLog.PROTOCOL, string(DecisionLog.HTTP));
        fields.put(DecisionLog.SNI, format("%REQUESTED_SERVER_NAME%"));
        fields.put(DecisionLog.HOST, format("%REQ(:AUTHORITY)%"));
        fields.put(DecisionLog.METHOD, format("%REQ(:METHOD)%"));
        fields.put(DecisionLog.PATH, format("%REQ(:PATH)%"));
        fields.put(DecisionLog.DECISION, format(routeMetadata(DecisionLog.DECISION)));
        fields.put(DecisionLog.POLICY, format(routeMetadata(DecisionLog.POLICY)));
        fields.put(DecisionLog.MATCH, format(routeMetadata(DecisionLog.MATCH)));
        fields.put(DecisionLog.REASON, format(routeMetadata(DecisionLog.REASON)));
        fields.put(DecisionLog.RESPONSE_CODE, format("%RESPONSE_CODE%"));
        AccessLogFilter filter = sampling.refusedOrAllowedFilter();

        List<CustomTag> tags = new ArrayList<>();
        tags.add(literalTag(DecisionLog.IDENTITY, identity.toString()));
        tags.add(literalTag(DecisionLog.PROTOCOL, DecisionLog.HTTP));
        for (String field : List.of(DecisionLog.DECISION, DecisionLog.POLICY, DecisionLog.MATCH, DecisionLog.REASON)) {
            tags.add(CustomTag.newBuilder()
                    .setTag(DecisionLog.TAG_PREFIX + field)
                    .setMetadata(CustomTag.Metadata.newBuilder()
                            .setKind(MetadataKind.newBuilder().setRoute(MetadataKind.Route.getDefaultInstance()))
                            .setMetadataKey(MetadataKey.newBuilder()
                                    .setKey(METADATA_NAMESPACE)
                                    .addPath(
                                            MetadataKey.PathSegment.newBuilder().setKey(field))))
                    .build());
        }
        HttpGrpcAccessLogConfig grpc = HttpGrpcAccessLogConfig.newBuilder()
                .setCommonConfig(grpcCommon(tags))
                .build();

        return List.of(
                stdout(fields, filter),
                logger("envoy.access_loggers.http_grpc", EnvoyTypes.pack(grpc), filter),
                stats(
                        identity,
                        DecisionLog.HTTP,
                        routeMetadata(DecisionLog.DECISION),
                        routeMetadata(DecisionLog.POLICY)));
    }

    /** The route metadata the HTTP loggers read; {@code policy} and {@code match} only when there is one. */
    static io.envoyproxy.envoy.config.core.v3.Metadata routeMetadata(Decision decision) {
        Struct.Builder facts = Struct.newBuilder()
                .putFields(DecisionLog.DECISION, string(decision.decision()))
                .putFields(DecisionLog.REASON, string(decision.reason()));
        if (decision.policy() != null) {
            facts.putFields(DecisionLog.POLICY, string(decision.policy()));
        }
        if (decision.match() != null) {
            facts.putFields(DecisionLog.MATCH, string(decision.match()));
        }
        return io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder()
                .putFilterMetadata(METADATA_NAMESPACE, facts.build())
                .build();
    }

    private static String routeMetadata(String field) {
        return "%METADATA(ROUTE:" + METADATA_NAMESPACE + ":" + field + ")%";
    }

    private static CommonGrpcAccessLogConfig grpcCommon(List<CustomTag> tags) {
        return CommonGrpcAccessLogConfig.newBuilder()
                .setLogName(DecisionLog.ALS_LOG_NAME)
                .setGrpcService(GrpcService.newBuilder()
                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(SidecarBootstrap.XDS_CLUSTER)))
                .setTransportApiVersion(ApiVersion.V3)
                .addAllCustomTags(tags)
                .build();
    }

    private static CustomTag literalTag(String field, String value) {
        return CustomTag.newBuilder()
                .setTag(DecisionLog.TAG_PREFIX + field)
                .setLiteral(CustomTag.Literal.newBuilder().setValue(value))
                .build();
    }

    private static AccessLog stdout(Map<String, Value> fields, AccessLogFilter filter) {
        StdoutAccessLog config = StdoutAccessLog.newBuilder()
                .setLogFormat(SubstitutionFormatString.newBuilder()
                        .setJsonFormat(Struct.newBuilder().putAllFields(fields)))
                .build();
        return logger("envoy.access_loggers.stdout", EnvoyTypes.pack(config), filter);
    }

    /**
     * The counter of decisions, tagged so Prometheus answers "denials per policy per identity". Envoy's stats
     * access logger is not in our java-control-plane, so its config travels as a TypedStruct, which Envoy
     * converts to the real type and validates as strictly.
     */
    private static AccessLog stats(ServiceAccountRef identity, String protocol, String decision, String policy) {
        String json = """
                {"stats_scope": {"prefix": "%s"}, "counters": [{"stat": {"name": "%s", "tags": [
                  {"name": "identity", "value_format": %s},
                  {"name": "policy", "value_format": %s},
                  {"name": "decision", "value_format": %s},
                  {"name": "protocol", "value_format": %s}]}, "value_fixed": 1}]}
                """.formatted(
                        STATS_PREFIX,
                        DECISIONS_STAT,
                        jsonString(identity.toString()),
                        jsonString(policy),
                        jsonString(decision),
                        jsonString(protocol));
        Struct.Builder value = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(json, value);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("stats logger config is not JSON: " + json, e);
        }
        com.github.xds.type.v3.TypedStruct typed = com.github.xds.type.v3.TypedStruct.newBuilder()
                .setTypeUrl(STATS_LOGGER_TYPE)
                .setValue(value)
                .build();
        return logger("envoy.access_loggers.stats", EnvoyTypes.pack(typed), null);
    }

    private static AccessLog logger(String name, com.google.protobuf.Any config, AccessLogFilter filter) {
        AccessLog.Builder log = AccessLog.newBuilder().setName(name).setTypedConfig(config);
        if (filter != null) {
            log.setFilter(filter);
        }
        return log.build();
    }

    private static String jsonString(String text) {
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static Value format(String format) {
        return string(format);
    }

    private static Value string(String text) {
        return Value.newBuilder().setStringValue(text).build();
    }

    private static Value nullValue() {
        return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    }

    /**
     * How allowed traffic is sampled for the logs (refusals are always logged).
     *
     * @param allowedPercent of allowed connections and requests logged, 0 to 100
     */
    record DecisionSampling(int allowedPercent) {

        /** The runtime key that can override the percentage on one sidecar. */
        static final String RUNTIME_KEY = "portcullis.decision_log.allowed_sample_percent";

        /** Refusals only: the default. */
        static final DecisionSampling REFUSALS_ONLY = new DecisionSampling(0);

        DecisionSampling {
            if (allowedPercent < 0 || allowedPercent > 100) {
                throw new IllegalArgumentException("sample percent " + allowedPercent + " is not within 0-100");
            }
        }

        AccessLogFilter allowedFilter() {
            return AccessLogFilter.newBuilder()
                    .setRuntimeFilter(RuntimeFilter.newBuilder()
                            .setRuntimeKey(RUNTIME_KEY)
                            .setPercentSampled(FractionalPercent.newBuilder()
                                    .setNumerator(allowedPercent)
                                    .setDenominator(FractionalPercent.DenominatorType.HUNDRED))
                            // Each request its own draw: the default reuses the request id, which
                            // the forward proxy does not always set.
                            .setUseIndependentRandomness(true))
                    .build();
        }

        /** A refusal by the route's decision (deny, would_deny), or an allowed request drawn for the sample. */
        AccessLogFilter refusedOrAllowedFilter() {
            AccessLogFilter refused = AccessLogFilter.newBuilder()
                    .setExtensionFilter(ExtensionFilter.newBuilder()
                            .setName("envoy.access_loggers.extension_filters.cel")
                            .setTypedConfig(EnvoyTypes.pack(ExpressionFilter.newBuilder()
                                    .setExpression("xds.route_metadata.filter_metadata['" + METADATA_NAMESPACE + "']['"
                                            + DecisionLog.DECISION + "'] != '" + DecisionLog.ALLOW + "'")
                                    .build())))
                    .build();
            return AccessLogFilter.newBuilder()
                    .setOrFilter(OrFilter.newBuilder().addFilters(refused).addFilters(allowedFilter()))
                    .build();
        }
    }
}
