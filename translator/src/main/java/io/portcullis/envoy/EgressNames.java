package io.portcullis.envoy;

import io.portcullis.ir.TcpAccess;
import io.portcullis.ir.TlsAccess;
import io.portcullis.validation.HttpMatchOrigin;
import io.portcullis.validation.PolicyOrigin;
import java.util.Collection;
import java.util.SortedSet;
import java.util.TreeSet;

/** Names of the Envoy resources Portcullis generates; operators see them in config dumps and stats. */
public final class EgressNames {

    public static final String OUTBOUND_LISTENER = "egress_outbound";

    public static final String HTTP_FORWARD_PROXY_CLUSTER = "egress_http_dns";
    public static final String TLS_FORWARD_PROXY_CLUSTER = "egress_tls_dns";
    public static final String ORIGINAL_DESTINATION_CLUSTER = "egress_original_dst";
    public static final String DENY_CLUSTER = "egress_deny";
    public static final String DNS_CACHE = "egress_dns_cache";

    /** The outbound listener's default chain when policies decide: what no chain takes is refused there. */
    public static final String DENY_CHAIN = "deny";

    /** The outbound listener's default chain in passthrough mode. */
    public static final String PASSTHROUGH_CHAIN = "passthrough";

    private EgressNames() {}

    /**
     * The chain of raw TCP on {@code port} that names {@code decider} in its decision log. There is one chain
     * per deciding policy ({@link TcpAccess#decidedBy()}, or the policy allowing any address), so each chain's
     * log line names its policy: {@code egress_tcp_<port>} when one policy decides the port's TCP,
     * {@code egress_tcp_<port>_<i>} for the i-th of several, in {@link PolicyOrigin} order.
     */
    public static String tcpChain(int port, TcpAccess tcp, PolicyOrigin decider) {
        SortedSet<PolicyOrigin> deciders = tcp.anyAddress()
                ? new TreeSet<>(java.util.Set.of(tcp.anyAddressPolicy()))
                : new TreeSet<>(tcp.decidedBy().values());
        return splitChain("egress_tcp_" + port, deciders, decider);
    }

    /** The chain of TLS on {@code port} deciding for {@code decider}: as {@link #tcpChain}, {@code egress_tls_<port>[_<i>]}. */
    public static String tlsChain(int port, TlsAccess tls, PolicyOrigin decider) {
        return splitChain("egress_tls_" + port, new TreeSet<>(tls.decidedBy().values()), decider);
    }

    /** The one chain of a port with HTTP hosts: it takes every connection on the port the TCP/TLS chains leave. */
    public static String httpChain(int port) {
        return "egress_http_" + port;
    }

    /**
     * The chain of an Egress in audit on {@code port} (namespace enforced): what the port's other chains do
     * not take is let through and logged {@code would_deny}.
     */
    public static String auditChain(int port) {
        return "audit_" + port;
    }

    /** How a policy is named in the decision log's {@code policy} field and the counters' label: {@code namespace/name}. */
    public static String policyName(PolicyOrigin origin) {
        return origin.namespace() + "/" + origin.name();
    }

    private static String splitChain(String prefix, SortedSet<PolicyOrigin> deciders, PolicyOrigin decider) {
        if (!deciders.contains(decider)) {
            throw new IllegalArgumentException(decider + " decides no chain " + prefix + "; deciders: " + deciders);
        }
        return splitChain(prefix, deciders.size(), deciders.headSet(decider).size());
    }

    /**
     * The chain of the {@code index}-th of {@code deciders} deciding policies (in {@link PolicyOrigin} order) of
     * a port, named as {@link #tcpChain} and {@link #tlsChain} name it: for a builder that walks the deciders in
     * order, without a sorted set of them per chain.
     */
    static String splitChain(String prefix, int deciders, int index) {
        if (index < 0 || index >= deciders) {
            throw new IllegalArgumentException("chain " + index + " of " + deciders + " deciders of " + prefix);
        }
        return deciders == 1 ? prefix : prefix + "_" + index;
    }

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
