package io.portcullis.envoy;

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
}
