package io.portcullis.envoy;

import io.portcullis.validation.HttpMatchOrigin;
import io.portcullis.validation.PolicyOrigin;
import java.util.Collection;

/** Names of the Envoy resources Portcullis generates; operators see them in config dumps and stats. */
public final class EgressNames {

    public static final String OUTBOUND_LISTENER = "egress_outbound";

    public static final String HTTP_FORWARD_PROXY_CLUSTER = "egress_http_dns";
    public static final String TLS_FORWARD_PROXY_CLUSTER = "egress_tls_dns";
    public static final String ORIGINAL_DESTINATION_CLUSTER = "egress_original_dst";
    public static final String DENY_CLUSTER = "egress_deny";
    public static final String DNS_CACHE = "egress_dns_cache";

    private EgressNames() {}

    public static String httpRouteConfig(int port) {
        return "egress_http_" + port;
    }

    /**
     * The route that lets any request to a host through; the access log's {@code rule=} shows it, so it
     * names every policy allowing the host: {@code allow Egress curl/a,Egress curl/b}.
     */
    public static String allowHostRoute(Collection<PolicyOrigin> origins) {
        return "allow "
                + String.join(",", origins.stream().map(PolicyOrigin::toString).toList());
    }

    /** The route of one HTTPRouteGroup match: {@code HTTPRouteGroup:curl/api#read}. */
    public static String matchRoute(HttpMatchOrigin origin) {
        return origin.toString();
    }

    /** The route of one method of an HTTPRouteGroup match: {@code HTTPRouteGroup:curl/api#read:GET}. */
    public static String matchRoute(HttpMatchOrigin origin, String method) {
        return origin + ":" + method;
    }
}
