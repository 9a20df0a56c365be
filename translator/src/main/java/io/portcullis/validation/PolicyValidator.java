package io.portcullis.validation;

import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressMatch;
import io.portcullis.crds.EgressMode;
import io.portcullis.crds.EgressPort;
import io.portcullis.crds.EgressSource;
import io.portcullis.crds.EgressSpec;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.KubernetesNames;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks every Egress and HTTPRouteGroup of a snapshot. A resource with an error is skipped as a whole
 * (fail closed: a half-understood policy must never allow more, nor silently less, than it says), and
 * its problems name the field and the fix. Other resources are unaffected.
 */
public final class PolicyValidator {

    public static final String SMI_ROUTE_API_GROUP = HTTPRouteGroup.GROUP + "/" + HTTPRouteGroup.VERSION;
    public static final String HTTP_ROUTE_GROUP_KIND = HTTPRouteGroup.KIND;

    private static final java.util.regex.Pattern DNS_NAME = java.util.regex.Pattern.compile(
            "(\\*\\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*");

    private final RouteGroupValidator routeGroupValidator = new RouteGroupValidator();

    public ValidatedPolicies validate(ResourceSnapshot snapshot) {
        List<PolicyProblem> problems = new ArrayList<>();
        RouteGroupIndex routeGroups = new RouteGroupIndex();
        for (HTTPRouteGroup group : snapshot.routeGroups()) {
            ValidatedRouteGroup validated = routeGroup(group);
            problems.addAll(validated.problems());
            routeGroups.add(group, validated);
        }
        List<EgressRule> rules = new ArrayList<>();
        for (Egress egress : snapshot.egresses()) {
            ValidatedEgress validated = egress(egress, routeGroups);
            problems.addAll(validated.problems());
            validated.rule().ifPresent(rules::add);
        }
        return new ValidatedPolicies(snapshot.mesh(), rules, problems, snapshot.auditedNamespaces());
    }

    /**
     * One HTTPRouteGroup's outcome, which depends on nothing but the group.
     *
     * @param matches its matches if it has no error, else null (an Egress naming it is refused)
     */
    record ValidatedRouteGroup(List<PolicyProblem> problems, List<HttpRequestMatch> matches) {}

    /** One Egress's outcome: its problems, and its rule unless one of them is an error. */
    record ValidatedEgress(List<PolicyProblem> problems, Optional<EgressRule> rule) {}

    /**
     * What validating an Egress reads besides the Egress itself: the route groups it names. Nothing else of the
     * snapshot (not the MeshConfig, not other Egresses) is read, which is what lets {@link
     * IncrementalPolicyValidator} keep an Egress's outcome until the Egress or one of these answers changes.
     */
    interface RouteGroupLookup {
        /** Whether the snapshot has a route group of that namespace and name, valid or not. */
        boolean exists(String namespace, String name);

        /** The matches of the valid route group {@code key}, or null if it is missing or invalid. */
        List<HttpRequestMatch> validMatches(ResourceKey key);
    }

    /** The route groups of one snapshot, indexed (they were found by a scan of all groups per Egress match). */
    static final class RouteGroupIndex implements RouteGroupLookup {
        private record Name(String namespace, String name) {}

        private final Set<Name> present = new java.util.HashSet<>();
        private final Map<ResourceKey, List<HttpRequestMatch>> valid = new java.util.HashMap<>();

        /** Adds the snapshot's groups in its order: a later valid group of the same key wins, as it always did. */
        void add(HTTPRouteGroup group, ValidatedRouteGroup validated) {
            present.add(new Name(
                    group.getMetadata().getNamespace(), group.getMetadata().getName()));
            if (validated.matches() != null) {
                valid.put(ResourceKey.of(group), validated.matches());
            }
        }

        @Override
        public boolean exists(String namespace, String name) {
            return present.contains(new Name(namespace, name));
        }

        @Override
        public List<HttpRequestMatch> validMatches(ResourceKey key) {
            return valid.get(key);
        }
    }

    ValidatedRouteGroup routeGroup(HTTPRouteGroup group) {
        List<PolicyProblem> groupProblems = new ArrayList<>();
        List<HttpRequestMatch> matches = routeGroupValidator.matches(group, groupProblems);
        boolean valid = groupProblems.stream().noneMatch(p -> p.severity() == PolicyProblem.Severity.ERROR);
        return new ValidatedRouteGroup(List.copyOf(groupProblems), valid ? List.copyOf(matches) : null);
    }

    ValidatedEgress egress(Egress egress, RouteGroupLookup routeGroups) {
        List<PolicyProblem> egressProblems = new ArrayList<>();
        Optional<EgressRule> rule = egressRule(egress, routeGroups, egressProblems);
        return new ValidatedEgress(List.copyOf(egressProblems), rule);
    }

    private Optional<EgressRule> egressRule(Egress egress, RouteGroupLookup routeGroups, List<PolicyProblem> problems) {
        ResourceKey key = ResourceKey.of(egress);
        EgressSpec spec = egress.getSpec();
        if (spec == null) {
            problems.add(PolicyProblem.error(key, "spec", "missing; an Egress needs spec.sources and spec.ports"));
            return Optional.empty();
        }
        Set<ServiceAccountRef> sources = sources(key, egress.getMetadata().getNamespace(), spec.sources(), problems);
        List<String> hosts = hosts(key, spec.hosts(), problems);
        List<Cidr> ranges = ipRanges(key, spec.ipAddresses(), problems);
        List<EgressRule.PortRule> ports = ports(key, spec.ports(), hosts, problems);
        List<HttpRequestMatch> matches =
                matches(key, egress.getMetadata().getNamespace(), spec.matches(), routeGroups, ports, problems);
        EgressMode mode = mode(key, egress, problems);
        if (problems.stream().anyMatch(p -> p.severity() == PolicyProblem.Severity.ERROR)) {
            return Optional.empty();
        }
        return Optional.of(new EgressRule(PolicyOrigin.of(key), sources, hosts, ranges, ports, matches, mode));
    }

    /**
     * The Egress's {@value EgressMode#ANNOTATION}. A value that is neither {@code audit} nor {@code enforce} is
     * a warning and the Egress is enforced: a typo must never let through what the policy refuses.
     */
    private static EgressMode mode(ResourceKey key, Egress egress, List<PolicyProblem> problems) {
        Optional<String> value = EgressMode.annotation(egress);
        if (value.isPresent() && EgressMode.parse(value.get()).isEmpty()) {
            problems.add(PolicyProblem.warning(
                    PolicyProblem.Cause.INVALID,
                    key,
                    "metadata.annotations[\"" + EgressMode.ANNOTATION + "\"]",
                    "is \"" + value.get() + "\", which is neither \"audit\" nor \"enforce\"; the Egress is enforced."
                            + " Set it to \"audit\" to let refused traffic through as would_deny, or remove it"));
        }
        return EgressMode.of(egress);
    }

    private Set<ServiceAccountRef> sources(
            ResourceKey key, String policyNamespace, List<EgressSource> sources, List<PolicyProblem> problems) {
        Set<ServiceAccountRef> result = new LinkedHashSet<>();
        if (sources.isEmpty()) {
            problems.add(PolicyProblem.error(
                    key,
                    "spec.sources",
                    "empty; name at least one {kind: ServiceAccount, name, namespace} the policy applies to"));
        }
        for (int i = 0; i < sources.size(); i++) {
            EgressSource source = sources.get(i);
            String field = "spec.sources[" + i + "]";
            if (!"ServiceAccount".equals(source.kind())) {
                problems.add(PolicyProblem.error(
                        key,
                        field + ".kind",
                        "is '" + source.kind() + "'; the only supported source kind is ServiceAccount"));
                continue;
            }
            if (!KubernetesNames.isSubdomain(source.name())) {
                problems.add(PolicyProblem.error(
                        key,
                        field + ".name",
                        "'" + source.name()
                                + "' is not a ServiceAccount name; give the name of the workload's ServiceAccount"));
                continue;
            }
            if (source.mtls() != null) {
                problems.add(PolicyProblem.warning(
                        key,
                        field + ".mtls",
                        "ignored: Portcullis does not issue egress client certificates; the source is matched by its"
                                + " ServiceAccount alone"));
            }
            // Like kubectl, an omitted namespace means the policy's own namespace.
            String namespace =
                    source.namespace() == null || source.namespace().isEmpty() ? policyNamespace : source.namespace();
            if (!KubernetesNames.isLabel(namespace)) {
                problems.add(PolicyProblem.error(
                        key,
                        field + ".namespace",
                        "'" + namespace + "' is not a namespace name;"
                                + " a namespace is a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters,"
                                + " no dots"));
                continue;
            }
            result.add(new ServiceAccountRef(namespace, source.name()));
        }
        return result;
    }

    private List<String> hosts(ResourceKey key, List<String> hosts, List<PolicyProblem> problems) {
        List<String> result = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            String host = hosts.get(i);
            String normalised = host == null ? "" : host.trim().toLowerCase(Locale.ROOT);
            if (normalised.endsWith(".")) {
                normalised = normalised.substring(0, normalised.length() - 1);
            }
            if (normalised.length() > 253 || !DNS_NAME.matcher(normalised).matches()) {
                String hint = normalised.contains(":") || normalised.contains("/")
                        ? "write the bare host name (no scheme, port or path; ports go in spec.ports)"
                        : "write a DNS name such as httpbin.org, or *.example.com for its subdomains";
                problems.add(PolicyProblem.error(
                        key, "spec.hosts[" + i + "]", "'" + host + "' is not a host name; " + hint));
                continue;
            }
            if (!result.contains(normalised)) {
                result.add(normalised);
            }
        }
        return result;
    }

    private List<Cidr> ipRanges(ResourceKey key, List<String> ipAddresses, List<PolicyProblem> problems) {
        List<Cidr> result = new ArrayList<>();
        for (int i = 0; i < ipAddresses.size(); i++) {
            String text = ipAddresses.get(i);
            Optional<Cidr> cidr = Cidr.parse(text);
            if (cidr.isEmpty()) {
                problems.add(
                        PolicyProblem.error(
                                key,
                                "spec.ipAddresses[" + i + "]",
                                "'" + text
                                        + "' is not an IP range; write CIDR notation such as 198.18.0.0/16 or a single address"));
            } else if (!result.contains(cidr.get())) {
                result.add(cidr.get());
            }
        }
        return result;
    }

    private List<EgressRule.PortRule> ports(
            ResourceKey key, List<EgressPort> ports, List<String> hosts, List<PolicyProblem> problems) {
        List<EgressRule.PortRule> result = new ArrayList<>();
        if (ports.isEmpty()) {
            problems.add(PolicyProblem.error(
                    key, "spec.ports", "empty; list at least one {number, protocol} the sources may reach"));
        }
        for (int i = 0; i < ports.size(); i++) {
            EgressPort port = ports.get(i);
            String field = "spec.ports[" + i + "]";
            if (port.number() == null || port.number() < 1 || port.number() > 65535) {
                problems.add(PolicyProblem.error(
                        key, field + ".number", "'" + port.number() + "' is not a TCP port; use 1-65535"));
                continue;
            }
            Optional<EgressProtocol> protocol = EgressProtocol.parse(port.protocol());
            if (protocol.isEmpty()) {
                problems.add(PolicyProblem.error(
                        key,
                        field + ".protocol",
                        "unknown protocol '" + port.protocol() + "'; use one of " + EgressProtocol.allowedValues()));
                continue;
            }
            boolean needsHosts = protocol.get() == EgressProtocol.HTTP || protocol.get() == EgressProtocol.HTTPS;
            if (needsHosts && hosts.isEmpty()) {
                problems.add(PolicyProblem.error(
                        key,
                        "spec.hosts",
                        "empty, but " + field + " is " + protocol.get().wireName()
                                + ", which is matched by host name; list the hosts, or use protocol tcp to allow any host on port "
                                + port.number()));
                continue;
            }
            Optional<EgressRule.PortRule> serverFirstClash = result.stream()
                    .filter(r -> r.number() == port.number().intValue()
                            && r.protocol() != protocol.get()
                            && (r.protocol() == EgressProtocol.TCP_SERVER_FIRST
                                    || protocol.get() == EgressProtocol.TCP_SERVER_FIRST))
                    .findFirst();
            if (serverFirstClash.isPresent()) {
                // One policy saying both "the server speaks first" and "read the client's first bytes" about
                // one port contradicts itself; across policies the model builder resolves it with a warning,
                // but here the author can fix it, so the policy is refused instead of half enforced.
                problems.add(PolicyProblem.error(
                        key,
                        field + ".protocol",
                        "port " + port.number() + " is both " + protocol.get().wireName() + " and "
                                + serverFirstClash.get().protocol().wireName()
                                + " in this policy; a tcp-server-first port gets no protocol detection (no Host"
                                + " header, no TLS SNI), so it cannot carry another protocol: list port "
                                + port.number() + " once, or move the other protocol to another port"));
                continue;
            }
            EgressRule.PortRule rule = new EgressRule.PortRule(port.number(), protocol.get());
            if (!result.contains(rule)) {
                result.add(rule);
            }
        }
        return result;
    }

    private List<HttpRequestMatch> matches(
            ResourceKey key,
            String namespace,
            List<EgressMatch> matches,
            RouteGroupLookup routeGroups,
            List<EgressRule.PortRule> ports,
            List<PolicyProblem> problems) {
        List<HttpRequestMatch> result = new ArrayList<>();
        for (int i = 0; i < matches.size(); i++) {
            EgressMatch match = matches.get(i);
            String field = "spec.matches[" + i + "]";
            if (!SMI_ROUTE_API_GROUP.equals(match.apiGroup())) {
                problems.add(PolicyProblem.error(
                        key,
                        field + ".apiGroup",
                        "is '" + match.apiGroup() + "'; only " + SMI_ROUTE_API_GROUP + " is supported"));
                continue;
            }
            if (match.kind() != null && !HTTP_ROUTE_GROUP_KIND.equals(match.kind())) {
                problems.add(PolicyProblem.error(
                        key, field + ".kind", "is '" + match.kind() + "'; only HTTPRouteGroup is supported"));
                continue;
            }
            ResourceKey groupKey = new ResourceKey(HTTP_ROUTE_GROUP_KIND, namespace, match.name());
            if (!routeGroups.exists(namespace, String.valueOf(match.name()))) {
                problems.add(PolicyProblem.error(
                        PolicyProblem.Cause.ROUTE_GROUP_NOT_FOUND,
                        key,
                        field + ".name",
                        groupKey + " does not exist; create it in namespace " + namespace + " or fix the name"));
                continue;
            }
            List<HttpRequestMatch> groupMatches = routeGroups.validMatches(groupKey);
            if (groupMatches == null) {
                problems.add(PolicyProblem.error(
                        PolicyProblem.Cause.ROUTE_GROUP_INVALID,
                        key,
                        field + ".name",
                        groupKey + " is invalid (see its own errors); fix it and this policy is enforced again"));
                continue;
            }
            result.addAll(groupMatches);
        }
        if (!matches.isEmpty() && ports.stream().noneMatch(p -> p.protocol() == EgressProtocol.HTTP)) {
            problems.add(PolicyProblem.warning(
                    key, "spec.matches", "ignored: HTTP route matches apply only to ports with protocol http"));
        }
        return result;
    }
}
