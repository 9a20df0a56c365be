package io.portcullis.envoy;

import com.google.protobuf.Any;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.MetadataFilter;
import io.envoyproxy.envoy.config.accesslog.v3.OrFilter;
import io.envoyproxy.envoy.config.accesslog.v3.RuntimeFilter;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.filters.common.set_filter_state.v3.FilterStateValue;
import io.envoyproxy.envoy.extensions.filters.http.set_metadata.v3.Config;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKey;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKind;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarContract;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Every egress decision a sidecar takes is reported three ways, all from the config Envoy runs: a JSON
 * line on stdout ({@link DecisionLog}'s fields), an entry to the control plane over the gRPC access log
 * service (the same facts as custom tags), and a count in the counter {@value #DECISIONS_STAT} of the
 * sidecar's stats. Denials are always logged; allowed traffic only at the mesh's sample rate, since
 * it is the bulk; that rate is a runtime key the control plane serves over RTDS ({@link DecisionSampling}). The counter counts everything, unsampled.
 *
 * <p>Where the deciding facts come from: a TCP or TLS filter chain decides one thing for one policy, so
 * they are literals in its loggers; an HTTP request is decided by its route, whose metadata
 * ({@value #METADATA_NAMESPACE}) carries them, read by {@code %METADATA(ROUTE:portcullis:...)%}.
 *
 * <p>The identity is no literal: Envoy reads it from its own node metadata ({@link SidecarBootstrap#IDENTITY_FORMAT},
 * which the xDS server checks against the certificate), so the loggers, and with them the whole config, of
 * identities with equal policies are equal and built once. It is read once per connection, not per request:
 * {@link #IDENTITY_FILTER}, first in every chain that logs, puts it in the connection's filter state, and the
 * loggers read it from there ({@value #IDENTITY_FROM_STATE}). The counter logs every request, and a
 * {@code %CEL(...)%} read of the node metadata in its tag cost Envoy ~14,000 instructions per request, 6.5% of
 * what the sidecar spends on one (bench/envoycost); a filter-state read costs about what a literal does. The gRPC
 * entries carry no identity at all: the control plane takes it from the authenticated stream they arrive on.
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

    /** The connection's filter-state key that holds the sidecar's identity (set by {@link #IDENTITY_FILTER}). */
    static final String IDENTITY_STATE_KEY = "portcullis.identity";

    /** How the loggers read the identity: from the connection's filter state, as a plain string. */
    static final String IDENTITY_FROM_STATE = "%FILTER_STATE(" + IDENTITY_STATE_KEY + ":PLAIN)%";

    /**
     * The network filter that must come first in every filter chain whose loggers read {@link #IDENTITY_FROM_STATE}:
     * on each new connection it evaluates {@link SidecarBootstrap#IDENTITY_FORMAT} (the node metadata) once and
     * keeps the result in the connection's filter state, where every request of that connection sees it. Not
     * shared with the upstream: the destination is outside the mesh.
     */
    static final Filter IDENTITY_FILTER = Filter.newBuilder()
            .setName("envoy.filters.network.set_filter_state")
            .setTypedConfig(EnvoyTypes.pack(
                    io.envoyproxy.envoy.extensions.filters.network.set_filter_state.v3.Config.newBuilder()
                            .addOnNewConnection(FilterStateValue.newBuilder()
                                    .setObjectKey(IDENTITY_STATE_KEY)
                                    .setFactoryKey("envoy.string")
                                    .setFormatString(SubstitutionFormatString.newBuilder()
                                            .setTextFormatSource(DataSource.newBuilder()
                                                    .setInlineString(SidecarBootstrap.IDENTITY_FORMAT)))
                                    .setReadOnly(true)
                                    .setSharedWithUpstream(FilterStateValue.SharedWithUpstream.NONE))
                            .build()))
            .build();

    private static final Value IDENTITY = format(IDENTITY_FROM_STATE);

    private static final Value IDENTITY_STAT_TAG = statTag("identity", IDENTITY_FROM_STATE);
    private static final Value START_TIME = format("%START_TIME%");
    private static final Value DOWNSTREAM_LOCAL_ADDRESS = format("%DOWNSTREAM_LOCAL_ADDRESS%");
    private static final Value REQUESTED_SERVER_NAME = format("%REQUESTED_SERVER_NAME%");
    private static final Value NULL =
            Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    /** JSON's 1, as a Struct holds every number. */
    private static final Value ONE = Value.newBuilder().setNumberValue(1).build();

    private static final Value STATS_SCOPE = Value.newBuilder()
            .setStructValue(Struct.newBuilder().putFields("prefix", string(STATS_PREFIX)))
            .build();

    /** Where every decision is sent over gRPC; the custom tags are added per logger. */
    private static final CommonGrpcAccessLogConfig GRPC_COMMON = CommonGrpcAccessLogConfig.newBuilder()
            .setLogName(DecisionLog.ALS_LOG_NAME)
            .setGrpcService(GrpcService.newBuilder()
                    .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(SidecarBootstrap.XDS_CLUSTER)))
            .setTransportApiVersion(ApiVersion.V3)
            .build();

    private AccessLogs() {}

    /** What one filter chain or route decides, as the decision log reports it. */
    record Decision(String protocol, String decision, String policy, String match, String reason) {}

    /** The loggers of one listener (see {@link Loggers}), reusing nothing. */
    static Loggers forListener() {
        return forListener(decision -> null);
    }

    /**
     * The loggers of one listener, reusing what {@code reusable} returns: the typed configs of an earlier build
     * ({@link Loggers#built}), or null.
     */
    static Loggers forListener(Function<Decision, TypedConfigs> reusable) {
        return new Loggers(reusable);
    }

    /**
     * The typed configs of the loggers of one TCP or TLS decision: packed, so serialised. They depend on the
     * decision alone (the sampling filter sits beside them in the {@code AccessLog}, not in them; the identity is
     * read from the node), so any later build can reuse them.
     */
    record TypedConfigs(Any stdout, Any grpc, Any stats) {}

    /**
     * The loggers of one listener. What every chain of the listener shares (the sampling filters, the HTTP
     * loggers) is built once per listener rather than once per filter chain: a listener has a chain per
     * deciding policy, a hundred at a large mesh.
     */
    static final class Loggers {

        private final Function<Decision, TypedConfigs> reusable;
        private final Map<Decision, TypedConfigs> built = new HashMap<>();

        private Loggers(Function<Decision, TypedConfigs> reusable) {
            this.reusable = reusable;
        }

        /** The typed configs of every TCP or TLS decision logged so far, for a later build to reuse. */
        Map<Decision, TypedConfigs> built() {
            return Collections.unmodifiableMap(built);
        }

        /**
         * The loggers of a TCP proxy whose chain takes one decision: every field that is not about the
         * connection itself is a literal.
         */
        List<AccessLog> tcp(Decision decision) {
            TypedConfigs configs = built.computeIfAbsent(decision, d -> {
                TypedConfigs earlier = reusable.apply(d);
                return earlier != null ? earlier : tcpConfigs(d);
            });
            AccessLogFilter filter = DecisionLog.ALLOW.equals(decision.decision()) ? DecisionSampling.ALLOWED : null;
            return List.of(
                    logger("envoy.access_loggers.stdout", configs.stdout(), filter),
                    logger("envoy.access_loggers.tcp_grpc", configs.grpc(), filter),
                    logger("envoy.access_loggers.stats", configs.stats(), null));
        }

        private TypedConfigs tcpConfigs(Decision decision) {
            Value protocol = string(decision.protocol());
            Value decided = string(decision.decision());
            Value policy = decision.policy() == null ? NULL : string(decision.policy());
            Struct.Builder fields = Struct.newBuilder()
                    .putFields(DecisionLog.TIME, START_TIME)
                    .putFields(DecisionLog.IDENTITY, IDENTITY)
                    .putFields(DecisionLog.DESTINATION, DOWNSTREAM_LOCAL_ADDRESS)
                    .putFields(DecisionLog.PROTOCOL, protocol)
                    .putFields(DecisionLog.SNI, REQUESTED_SERVER_NAME)
                    .putFields(DecisionLog.HOST, NULL)
                    .putFields(DecisionLog.METHOD, NULL)
                    .putFields(DecisionLog.PATH, NULL)
                    .putFields(DecisionLog.DECISION, decided)
                    .putFields(DecisionLog.POLICY, policy)
                    .putFields(DecisionLog.MATCH, decision.match() == null ? NULL : string(decision.match()))
                    .putFields(DecisionLog.REASON, string(decision.reason()))
                    .putFields(DecisionLog.RESPONSE_CODE, NULL);

            CommonGrpcAccessLogConfig.Builder grpc = GRPC_COMMON.toBuilder()
                    .addCustomTags(literalTag(DecisionLog.PROTOCOL, decision.protocol()))
                    .addCustomTags(literalTag(DecisionLog.DECISION, decision.decision()));
            if (decision.policy() != null) {
                grpc.addCustomTags(literalTag(DecisionLog.POLICY, decision.policy()));
            }
            if (decision.match() != null) {
                grpc.addCustomTags(literalTag(DecisionLog.MATCH, decision.match()));
            }
            grpc.addCustomTags(literalTag(DecisionLog.REASON, decision.reason()));

            return new TypedConfigs(
                    stdout(fields),
                    EnvoyTypes.pack(TcpGrpcAccessLogConfig.newBuilder()
                            .setCommonConfig(grpc)
                            .build()),
                    stats(
                            statTag("policy", decision.policy() == null ? NO_POLICY_TAG : decision.policy()),
                            statTag("decision", decision.decision()),
                            statTag("protocol", decision.protocol())));
        }

        /**
         * The loggers of an HTTP connection manager: the decision facts are the metadata of the route that
         * took the request ({@link #routeMetadata}). Refusals ({@code deny}, {@code would_deny}) are always
         * logged, allowed requests at the sample rate.
         */
        List<AccessLog> http() {
            Struct.Builder fields = Struct.newBuilder()
                    .putFields(DecisionLog.TIME, START_TIME)
                    .putFields(DecisionLog.IDENTITY, IDENTITY)
                    .putFields(DecisionLog.DESTINATION, DOWNSTREAM_LOCAL_ADDRESS)
                    .putFields(DecisionLog.PROTOCOL, string(DecisionLog.HTTP))
                    .putFields(DecisionLog.SNI, REQUESTED_SERVER_NAME)
                    .putFields(DecisionLog.HOST, format("%REQ(:AUTHORITY)%"))
                    .putFields(DecisionLog.METHOD, format("%REQ(:METHOD)%"))
                    .putFields(DecisionLog.PATH, format("%REQ(:PATH)%"))
                    .putFields(DecisionLog.DECISION, format(routeMetadata(DecisionLog.DECISION)))
                    .putFields(DecisionLog.POLICY, format(routeMetadata(DecisionLog.POLICY)))
                    .putFields(DecisionLog.MATCH, format(routeMetadata(DecisionLog.MATCH)))
                    .putFields(DecisionLog.REASON, format(routeMetadata(DecisionLog.REASON)))
                    .putFields(DecisionLog.RESPONSE_CODE, format("%RESPONSE_CODE%"));
            AccessLogFilter filter = DecisionSampling.REFUSED_OR_ALLOWED;

            CommonGrpcAccessLogConfig.Builder grpc =
                    GRPC_COMMON.toBuilder().addCustomTags(literalTag(DecisionLog.PROTOCOL, DecisionLog.HTTP));
            for (String field :
                    List.of(DecisionLog.DECISION, DecisionLog.POLICY, DecisionLog.MATCH, DecisionLog.REASON)) {
                grpc.addCustomTags(CustomTag.newBuilder()
                        .setTag(DecisionLog.TAG_PREFIX + field)
                        .setMetadata(CustomTag.Metadata.newBuilder()
                                .setKind(MetadataKind.newBuilder().setRoute(MetadataKind.Route.getDefaultInstance()))
                                .setMetadataKey(MetadataKey.newBuilder()
                                        .setKey(METADATA_NAMESPACE)
                                        .addPath(MetadataKey.PathSegment.newBuilder()
                                                .setKey(field))))
                        .build());
            }

            return List.of(
                    logger("envoy.access_loggers.stdout", stdout(fields), filter),
                    logger(
                            "envoy.access_loggers.http_grpc",
                            EnvoyTypes.pack(HttpGrpcAccessLogConfig.newBuilder()
                                    .setCommonConfig(grpc)
                                    .build()),
                            filter),
                    logger(
                            "envoy.access_loggers.stats",
                            stats(
                                    statTag("policy", routeMetadata(DecisionLog.POLICY)),
                                    statTag("decision", routeMetadata(DecisionLog.DECISION)),
                                    statTag("protocol", DecisionLog.HTTP)),
                            null));
        }

        /**
         * The counter of decisions, tagged so Prometheus answers "denials per policy per identity". Envoy's
         * stats access logger is not in our java-control-plane, so its config travels as a TypedStruct, which
         * Envoy converts to the real type and validates as strictly. The Struct is the JSON
         * {@code {"stats_scope": {"prefix": ...}, "counters": [{"stat": {"name": ..., "tags": [...]},
         * "value_fixed": 1}]}}, built directly: parsing that JSON for each chain was most of a build's time.
         */
        private Any stats(Value policy, Value decision, Value protocol) {
            Struct stat = Struct.newBuilder()
                    .putFields("name", string(DECISIONS_STAT))
                    .putFields(
                            "tags",
                            Value.newBuilder()
                                    .setListValue(ListValue.newBuilder()
                                            .addValues(IDENTITY_STAT_TAG)
                                            .addValues(policy)
                                            .addValues(decision)
                                            .addValues(protocol))
                                    .build())
                    .build();
            Struct counter = Struct.newBuilder()
                    .putFields("stat", Value.newBuilder().setStructValue(stat).build())
                    .putFields("value_fixed", ONE)
                    .build();
            Struct config = Struct.newBuilder()
                    .putFields("stats_scope", STATS_SCOPE)
                    .putFields(
                            "counters",
                            Value.newBuilder()
                                    .setListValue(ListValue.newBuilder()
                                            .addValues(Value.newBuilder().setStructValue(counter)))
                                    .build())
                    .build();
            com.github.xds.type.v3.TypedStruct typed = com.github.xds.type.v3.TypedStruct.newBuilder()
                    .setTypeUrl(STATS_LOGGER_TYPE)
                    .setValue(config)
                    .build();
            return EnvoyTypes.pack(typed);
        }
    }

    /** One tag of the decisions counter: {@code {"name": ..., "value_format": ...}}. */
    private static Value statTag(String name, String valueFormat) {
        return Value.newBuilder()
                .setStructValue(Struct.newBuilder()
                        .putFields("name", string(name))
                        .putFields("value_format", string(valueFormat)))
                .build();
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

    private static CustomTag literalTag(String field, String value) {
        return CustomTag.newBuilder()
                .setTag(DecisionLog.TAG_PREFIX + field)
                .setLiteral(CustomTag.Literal.newBuilder().setValue(value))
                .build();
    }

    private static Any stdout(Struct.Builder fields) {
        return EnvoyTypes.pack(StdoutAccessLog.newBuilder()
                .setLogFormat(SubstitutionFormatString.newBuilder().setJsonFormat(fields))
                .build());
    }

    private static AccessLog logger(String name, Any config, AccessLogFilter filter) {
        AccessLog.Builder log = AccessLog.newBuilder().setName(name).setTypedConfig(config);
        if (filter != null) {
            log.setFilter(filter);
        }
        return log.build();
    }

    private static Value format(String format) {
        return string(format);
    }

    private static Value string(String text) {
        return Value.newBuilder().setStringValue(text).build();
    }

    /**
     * How allowed traffic is sampled for the logs (refusals are always logged): by the runtime key
     * {@link #RUNTIME_KEY}, which the control plane serves every sidecar over RTDS with the MeshConfig's
     * {@code spec.observability.egressDecisionLog.allowedSamplePercent} (SidecarBootstrap's runtime layers; an
     * operator may override it on one sidecar through its admin {@code /runtime_modify}). The listeners carry no rate
     * of their own, only {@link #DEFAULT_PERCENT} for while the key is absent, so a change of the rate rebuilds and
     * re-sends no listener (each LDS update would also drain the sidecar's listener).
     */
    static final class DecisionSampling {

        /** The runtime key of the percentage of allowed connections and requests logged, 0 to 100. */
        static final String RUNTIME_KEY = SidecarContract.DECISION_SAMPLE_RUNTIME_KEY;

        /**
         * The percentage while the runtime key is absent (before the RTDS layer arrived, or if it never does):
         * refusals only, the quietest log.
         */
        static final int DEFAULT_PERCENT = 0;

        /** An allowed decision drawn for the sample. */
        static final AccessLogFilter ALLOWED = AccessLogFilter.newBuilder()
                .setRuntimeFilter(RuntimeFilter.newBuilder()
                        .setRuntimeKey(RUNTIME_KEY)
                        .setPercentSampled(FractionalPercent.newBuilder()
                                .setNumerator(DEFAULT_PERCENT)
                                .setDenominator(FractionalPercent.DenominatorType.HUNDRED))
                        // Each request its own draw: the default reuses the request id, which
                        // the forward proxy does not always set.
                        .setUseIndependentRandomness(true))
                .build();

        /**
         * The HTTP filter that marks a refusal: first in every HTTP connection manager that logs. Its own config is
         * empty, so on a route without {@link #REFUSAL_MARK} it sets nothing; a refusing route ({@code deny} or
         * {@code would_deny}) carries {@link #REFUSAL_MARK} as its per-filter config, and the filter then puts
         * {@value #REFUSED_KEY} in the request's dynamic metadata ({@value AccessLogs#METADATA_NAMESPACE}), where
         * {@link #REFUSED_OR_ALLOWED} reads it. Why not test the route's metadata in the loggers: Envoy's only access
         * log filter that can read route metadata is CEL, and the two loggers' CEL filters cost Envoy ~14,500 more
         * instructions per request than this filter and a dynamic-metadata lookup (bench/envoycost: 201,824 against
         * 187,266). Only this filter sets it: a client can neither mark its request nor clear the mark, and an
         * upstream's own 403 goes through an allowing route, which carries no mark.
         */
        static final HttpFilter REFUSAL_MARK_FILTER = HttpFilter.newBuilder()
                .setName("envoy.filters.http.set_metadata")
                .setTypedConfig(EnvoyTypes.pack(Config.getDefaultInstance()))
                .build();

        /** The dynamic metadata key (in {@value AccessLogs#METADATA_NAMESPACE}) that says the route refused the request. */
        static final String REFUSED_KEY = "refused";

        /** The per-route config of {@link #REFUSAL_MARK_FILTER} on every refusing route. */
        static final Any REFUSAL_MARK = EnvoyTypes.pack(Config.newBuilder()
                .addMetadata(io.envoyproxy.envoy.extensions.filters.http.set_metadata.v3.Metadata.newBuilder()
                        .setMetadataNamespace(METADATA_NAMESPACE)
                        .setValue(Struct.newBuilder()
                                .putFields(
                                        REFUSED_KEY,
                                        Value.newBuilder().setBoolValue(true).build())))
                .build());

        /**
         * A refusal by the route's decision (deny, would_deny: the route marked it, see {@link #REFUSAL_MARK_FILTER}),
         * or an allowed request drawn for the sample.
         */
        static final AccessLogFilter REFUSED_OR_ALLOWED = AccessLogFilter.newBuilder()
                .setOrFilter(OrFilter.newBuilder()
                        .addFilters(AccessLogFilter.newBuilder()
                                .setMetadataFilter(MetadataFilter.newBuilder()
                                        .setMatcher(MetadataMatcher.newBuilder()
                                                .setFilter(METADATA_NAMESPACE)
                                                .addPath(MetadataMatcher.PathSegment.newBuilder()
                                                        .setKey(REFUSED_KEY))
                                                .setValue(ValueMatcher.newBuilder()
                                                        .setBoolMatch(true)))
                                        // Unmarked (an allowing route, or no route at all): not a refusal.
                                        .setMatchIfKeyNotFound(com.google.protobuf.BoolValue.of(false))))
                        .addFilters(ALLOWED))
                .build();

        private DecisionSampling() {}
    }
}
