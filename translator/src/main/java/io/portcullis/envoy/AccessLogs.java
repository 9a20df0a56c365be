package io.portcullis.envoy;

import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ComparisonFilter;
import io.envoyproxy.envoy.config.accesslog.v3.StatusCodeFilter;
import io.envoyproxy.envoy.config.core.v3.RuntimeUInt32;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.portcullis.input.ServiceAccountRef;

/** Denials are logged by the sidecar, one line each, saying who was denied what and why. */
final class AccessLogs {

    private AccessLogs() {}

    /** For connections that match no policy and land on the deny chain. */
    static AccessLog tcpDenied(ServiceAccountRef identity, String reason) {
        return stdout(
                "[portcullis] egress DENY identity=" + identity
                        + " destination=%DOWNSTREAM_LOCAL_ADDRESS% sni=%REQUESTED_SERVER_NAME% reason=\"" + reason
                        + "\"\n",
                null);
    }

    /** For HTTP requests answered 403; the route name says which rule refused (unknown host, or no match). */
    static AccessLog httpDenied(ServiceAccountRef identity, int port) {
        AccessLogFilter only403 = AccessLogFilter.newBuilder()
                .setStatusCodeFilter(StatusCodeFilter.newBuilder()
                        .setComparison(ComparisonFilter.newBuilder()
                                .setOp(ComparisonFilter.Op.EQ)
                                .setValue(RuntimeUInt32.newBuilder()
                                        .setDefaultValue(403)
                                        .setRuntimeKey("portcullis.deny_status"))))
                .build();
        return stdout(
                "[portcullis] egress DENY identity=" + identity + " port=" + port
                        + " host=%REQ(:AUTHORITY)% method=%REQ(:METHOD)% path=%REQ(:PATH)% rule=%ROUTE_NAME%"
                        + " details=%RESPONSE_CODE_DETAILS%\n",
                only403);
    }

    private static AccessLog stdout(String format, AccessLogFilter filter) {
        StdoutAccessLog config = StdoutAccessLog.newBuilder()
                .setLogFormat(SubstitutionFormatString.newBuilder()
                        .setTextFormatSource(io.envoyproxy.envoy.config.core.v3.DataSource.newBuilder()
                                .setInlineString(format)))
                .build();
        AccessLog.Builder log =
                AccessLog.newBuilder().setName("envoy.access_loggers.stdout").setTypedConfig(EnvoyTypes.pack(config));
        if (filter != null) {
            log.setFilter(filter);
        }
        return log.build();
    }
}
