package io.portcullis.explain;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.HttpHostAccess;
import io.portcullis.ir.PortPlan;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.translator.GeneratedPolicySet;
import io.portcullis.translator.PolicySetArbitraries;
import io.portcullis.validation.Cidr;
import io.portcullis.validation.PolicyOrigin;
import io.portcullis.validation.ValidatedPolicies;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;

/**
 * On random policy sets (the generator the Envoy-acceptance properties use): explain never says allowed
 * where the model has no grant for the request's port, and then only names policies of that port's
 * grants; and each grant's own request (its host, server name or first address, on its port) is allowed.
 */
class ExplainNeverInventsAGrantTest {

    private static final EgressTranslator TRANSLATOR = new EgressTranslator();
    private final EgressExplainer explainer = new EgressExplainer();

    @Provide
    Arbitrary<GeneratedPolicySet> policySets() {
        return new PolicySetArbitraries(false).policySets();
    }

    @Property(tries = 60, seed = "20261126", shrinking = ShrinkingMode.BOUNDED)
    void allowedOnlyWhereTheModelGrantsAndEveryGrantAllowsItsOwnRequest(@ForAll("policySets") GeneratedPolicySet set) {
        ValidatedPolicies policies = TRANSLATOR.validate(set.snapshot());
        for (ServiceAccountRef identity : policies.namedIdentities()) {
            SidecarEgressModel model = TRANSLATOR.model(policies, identity);
            ExplainFixture envoy = new ExplainFixture(model, TRANSLATOR.resources(model));
            for (Probe probe : probes(model)) {
                EgressRequest request;
                try {
                    request = EgressRequest.parse(probe.target(), null, List.of(), probe.sni(), probe.ip());
                } catch (IllegalArgumentException notAUrl) {
                    continue; // a generated host java.net.URI will not take (e.g. with '_'): nothing to ask
                }
                Explanation explanation = explainer.explain(model, request);
                envoy.assertNamesAreInEnvoyConfig(explanation);
                if (probe.mustBeAllowed()) {
                    assertThat(explanation)
                            .as("%s: the grant's own request %s", identity, probe)
                            .isInstanceOf(Explanation.Allowed.class);
                }
                if (explanation instanceof Explanation.Allowed allowed) {
                    assertGranted(model, request.port(), allowed);
                }
            }
        }
    }

    private static void assertGranted(SidecarEgressModel model, int port, Explanation.Allowed allowed) {
        if (model instanceof SidecarEgressModel.Passthrough) {
            assertThat(allowed.policies()).isEmpty();
            return;
        }
        assertThat(model)
                .as("allowed in a model that is not policy-enforced")
                .isInstanceOf(SidecarEgressModel.PolicyEnforced.class);
        Optional<PortPlan> plan = ((SidecarEgressModel.PolicyEnforced) model)
                .ports().stream().filter(p -> p.port() == port).findFirst();
        assertThat(plan)
                .as("allowed on port %s, which no grant names: %s", port, allowed)
                .isPresent();
        Set<PolicyOrigin> origins = new TreeSet<>();
        plan.get().tcp().ifPresent(t -> origins.addAll(t.origins()));
        plan.get().tls().ifPresent(t -> origins.addAll(t.origins()));
        plan.get().httpHosts().forEach(h -> origins.addAll(h.origins()));
        assertThat(allowed.policies()).as("policies named for port %s", port).isNotEmpty();
        assertThat(origins).as("grants of port %s", port).containsAll(allowed.policies());
    }

    /** @param mustBeAllowed true for a grant's own request, false for a near miss or a stranger */
    record Probe(String target, String ip, String sni, boolean mustBeAllowed) {
        Probe(String target, String ip, boolean mustBeAllowed) {
            this(target, ip, null, mustBeAllowed);
        }
    }

    private static List<Probe> probes(SidecarEgressModel model) {
        List<Probe> probes = new ArrayList<>(List.of(
                new Probe("http://stranger.invalid/", null, false),
                new Probe("https://stranger.invalid/", null, false),
                new Probe("203.0.113.250:443", null, false)));
        if (!(model instanceof SidecarEgressModel.PolicyEnforced enforced)) {
            return probes;
        }
        for (PortPlan plan : enforced.ports()) {
            int port = plan.port();
            int otherPort = port == 65535 ? 1 : port + 1;
            plan.tcp().ifPresent(tcp -> {
                if (tcp.anyAddress()) {
                    probes.add(new Probe("203.0.113.7:" + port, null, true));
                }
                for (Cidr range : tcp.ranges()) {
                    String address = range.address().contains(":") ? "[" + range.address() + "]" : range.address();
                    // IPv6 is refused by the pod's firewall whatever the policy says.
                    probes.add(new Probe(
                            address + ":" + port, null, !range.address().contains(":")));
                    probes.add(new Probe(address + ":" + otherPort, null, false));
                }
            });
            plan.tls().ifPresent(tls -> {
                for (String name : tls.serverNames()) {
                    String concrete = name.startsWith("*.") ? "a" + name.substring(1) : name;
                    // --sni as well: a name may be an IP literal, for which a client sends no SNI of its own.
                    probes.add(new Probe("https://" + concrete + ":" + port + "/", "203.0.113.9", concrete, true));
                    probes.add(
                            new Probe("https://" + concrete + ":" + otherPort + "/", "203.0.113.9", concrete, false));
                    probes.add(
                            new Probe("https://" + concrete + ":" + port + "/", "203.0.113.9", "x" + concrete, false));
                }
            });
            for (HttpHostAccess host : plan.httpHosts()) {
                String concrete = host.wildcard() ? "a" + host.host().substring(1) : host.host();
                boolean shadowed = plan.httpHosts().stream()
                        .anyMatch(h -> !h.host().equals(host.host()) && h.host().equals(concrete));
                probes.add(new Probe(
                        "http://" + concrete + ":" + port + "/", "203.0.113.9", host.anyRequest() && !shadowed));
                probes.add(new Probe("http://" + concrete + ":" + otherPort + "/", "203.0.113.9", false));
            }
        }
        return probes;
    }
}
