package io.portcullis.explain;

import io.portcullis.ir.HttpHostAccess;
import io.portcullis.ir.PortPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The virtual hosts of an HTTP port's route table ({@code HttpRouteConfigBuilder}) and Envoy's choice
 * among them by the request's Host header.
 */
final class VirtualHosts {

    private VirtualHosts() {}

    /** A host's {@code domains}, exactly as HttpRouteConfigBuilder writes them. */
    static List<String> domains(HttpHostAccess host, int port) {
        List<String> domains = new ArrayList<>();
        if (host.wildcard()) {
            // The forward proxy dials the Host header's port (80 when absent): off port 80 a wildcard needs it spelled
            // out.
            if (port == 80) {
                domains.add(host.host());
            }
            domains.add(host.host() + ":" + port);
        } else {
            domains.add(host.host());
            domains.add(host.host() + ":" + port);
        }
        return domains;
    }

    /**
     * The host whose virtual host Envoy picks for {@code authority} (lower case): an exact domain first,
     * then the longest {@code *suffix} domain that leaves at least one character for the {@code *}; none
     * means the catch-all {@code *} virtual host, which answers 403.
     */
    static Optional<Selected> select(PortPlan plan, String authority) {
        for (HttpHostAccess host : plan.httpHosts()) {
            for (String domain : domains(host, plan.port())) {
                if (!domain.startsWith("*") && domain.equals(authority)) {
                    return Optional.of(new Selected(host, domain));
                }
            }
        }
        Selected best = null;
        for (HttpHostAccess host : plan.httpHosts()) {
            for (String domain : domains(host, plan.port())) {
                String suffix = domain.substring(1);
                if (domain.startsWith("*")
                        && authority.length() > suffix.length()
                        && authority.endsWith(suffix)
                        && (best == null || domain.length() > best.domain().length())) {
                    best = new Selected(host, domain);
                }
            }
        }
        return Optional.ofNullable(best);
    }

    /** @param domain the domain of the host's virtual host that took the request */
    record Selected(HttpHostAccess host, String domain) {}
}
