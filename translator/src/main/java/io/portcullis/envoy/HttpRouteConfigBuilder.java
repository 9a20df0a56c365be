package io.portcullis.envoy;

import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.dynamic_forward_proxy.v3.PerRouteConfig;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.portcullis.ir.HttpHostAccess;
import io.portcullis.ir.PortPlan;
import io.portcullis.validation.HttpRequestMatch;
import io.portcullis.validation.PolicyOrigin;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The route table of one HTTP port: a virtual host per allowed host, the policies' route matches as
 * routes, and 403 for everything else (an unknown host, or a request no match accepts).
 */
final class HttpRouteConfigBuilder {

    static final String DYNAMIC_FORWARD_PROXY_FILTER = "envoy.filters.http.dynamic_forward_proxy";
    static final String DENY_UNKNOWN_HOST = "deny_host_not_allowed";
    private static final int FORBIDDEN = 403;

    private HttpRouteConfigBuilder() {}

    static RouteConfiguration build(PortPlan plan) {
        RouteConfiguration.Builder config =
                RouteConfiguration.newBuilder().setName(EgressNames.httpRouteConfig(plan.port()));
        for (HttpHostAccess host : plan.httpHosts()) {
            config.addVirtualHosts(virtualHost(plan.port(), plan.audit(), host));
        }
        config.addVirtualHosts(VirtualHost.newBuilder()
                .setName(DENY_UNKNOWN_HOST)
                .addDomains("*")
                .addRoutes(refuse(DENY_UNKNOWN_HOST, plan.audit(), null, "host not allowed by any Egress policy")));
        return config.build();
    }

    /** A route table that refuses everything, for a port whose HTTP rules are gone (see {@link SidecarResources}). */
    static RouteConfiguration denyAll(String name) {
        return RouteConfiguration.newBuilder()
                .setName(name)
                .addVirtualHosts(VirtualHost.newBuilder()
                        .setName(DENY_UNKNOWN_HOST)
                        .addDomains("*")
                        .addRoutes(refuse(
                                DENY_UNKNOWN_HOST, false, null, "the Egress policies for this port were removed")))
                .build();
    }

    private static VirtualHost virtualHost(int port, boolean audit, HttpHostAccess host) {
        VirtualHost.Builder vhost = VirtualHost.newBuilder().setName(host.host());
        if (host.wildcard()) {
            // The forward proxy dials the port in the Host header (80 when absent), so on other ports
            // a wildcard host is accepted only with the policy's port spelled out.
            if (port == 80) {
                vhost.addDomains(host.host());
            }
            vhost.addDomains(host.host() + ":" + port);
        } else {
            vhost.addDomains(host.host()).addDomains(host.host() + ":" + port);
            // Resolve exactly host:port of the policy, whatever port the client wrote.
            vhost.putTypedPerFilterConfig(
                    DYNAMIC_FORWARD_PROXY_FILTER,
                    EnvoyTypes.pack(PerRouteConfig.newBuilder()
                            .setHostRewriteLiteral(port == 80 ? host.host() : host.host() + ":" + port)
                            .build()));
        }
        if (host.anyRequest()) {
            vhost.addRoutes(allow(
                    EgressNames.allowHostRoute(host.origins()),
                    prefixMatch(),
                    host.decidedBy(),
                    null,
                    "host " + host.host() + " allowed for any request"));
            return vhost.build();
        }
        for (HttpRequestMatch match : host.matches()) {
            if (match.methods().isEmpty()) {
                vhost.addRoutes(allow(
                        EgressNames.matchRoute(match.origin()),
                        routeMatch(match, null),
                        host.matchPolicies().get(match),
                        match.origin().toString(),
                        "request to " + host.host() + " matches " + match.origin()));
                continue;
            }
            // One route per method with an exact :method match: a regex joining the methods would exceed
            // RE2's program-size limit for long lists (all 39 registered methods), and a method is not a regex.
            for (String method : match.methods()) {
                vhost.addRoutes(allow(
                        EgressNames.matchRoute(match.origin(), method),
                        routeMatch(match, method),
                        host.matchPolicies().get(match),
                        match.origin().toString(),
                        "request to " + host.host() + " matches " + match.origin()));
            }
        }
        // The policies restricting the host's requests decide those no match accepts.
        vhost.addRoutes(refuse(
                "deny_no_route_match",
                audit,
                host.decidedBy(),
                "request matches no HTTPRouteGroup match of the Egress policies for " + host.host()));
        return vhost.build();
    }

    private static RouteMatch.Builder prefixMatch() {
        return RouteMatch.newBuilder().setPrefix("/");
    }

    /** @param method the exact :method to match, or null for any */
    private static RouteMatch.Builder routeMatch(HttpRequestMatch match, String method) {
        RouteMatch.Builder route = match.pathRegex() == null
                ? prefixMatch()
                // Envoy matches safe_regex against the whole path with the query string removed.
                : RouteMatch.newBuilder().setSafeRegex(regex(match.pathRegex()));
        if (method != null) {
            route.addHeaders(HeaderMatcher.newBuilder()
                    .setName(":method")
                    .setStringMatch(StringMatcher.newBuilder().setExact(method)));
        }
        List<Map.Entry<String, String>> headers =
                new ArrayList<>(match.headers().entrySet());
        headers.sort(Map.Entry.comparingByKey());
        for (Map.Entry<String, String> header : headers) {
            route.addHeaders(HeaderMatcher.newBuilder()
                    .setName(header.getKey())
                    .setStringMatch(StringMatcher.newBuilder().setSafeRegex(regex(header.getValue()))));
        }
        return route;
    }

    private static Route allow(
            String name, RouteMatch.Builder match, PolicyOrigin policy, String matchName, String reason) {
        return Route.newBuilder()
                .setName(name)
                .setMatch(match)
                .setRoute(RouteAction.newBuilder()
                        .setCluster(EgressNames.HTTP_FORWARD_PROXY_CLUSTER)
                        // Egress downloads and streams may be long: no overall response deadline.
                        .setTimeout(Duration.getDefaultInstance()))
                .setMetadata(AccessLogs.routeMetadata(new AccessLogs.Decision(
                        DecisionLog.HTTP,
                        DecisionLog.ALLOW,
                        OutboundListenerBuilder.policyName(policy),
                        matchName,
                        reason)))
                .build();
    }

    /**
     * What no policy allows: 403, or in audit mode sent on to the address the client dialled (never to a
     * name from the request, so audit cannot be used to reach a host by spoofing Host). Either way the
     * route's metadata says {@code deny} or {@code would_deny}, with the same reason and policy.
     */
    private static Route refuse(String name, boolean audit, PolicyOrigin policy, String reason) {
        Route.Builder route = Route.newBuilder()
                .setName(name)
                .setMatch(prefixMatch())
                .setMetadata(AccessLogs.routeMetadata(new AccessLogs.Decision(
                        DecisionLog.HTTP,
                        audit ? DecisionLog.WOULD_DENY : DecisionLog.DENY,
                        policy == null ? null : OutboundListenerBuilder.policyName(policy),
                        null,
                        reason)))
                // Marks the request refused for the loggers' filter, which always logs refusals.
                .putTypedPerFilterConfig(
                        AccessLogs.DecisionSampling.REFUSAL_MARK_FILTER.getName(),
                        AccessLogs.DecisionSampling.REFUSAL_MARK);
        if (audit) {
            return route.setRoute(RouteAction.newBuilder()
                            .setCluster(EgressNames.ORIGINAL_DESTINATION_CLUSTER)
                            .setTimeout(Duration.getDefaultInstance()))
                    .build();
        }
        return route.setDirectResponse(DirectResponseAction.newBuilder()
                        .setStatus(FORBIDDEN)
                        .setBody(DataSource.newBuilder().setInlineString("Forbidden: " + reason + "\n")))
                .build();
    }

    private static RegexMatcher regex(String regex) {
        return RegexMatcher.newBuilder().setRegex(regex).build();
    }
}
