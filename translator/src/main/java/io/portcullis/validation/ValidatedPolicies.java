package io.portcullis.validation;

import io.portcullis.crds.EgressSettings;
import io.portcullis.input.ServiceAccountRef;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The outcome of validating one resource snapshot: what is enforced, and what was wrong. */
public record ValidatedPolicies(EgressSettings mesh, List<EgressRule> rules, List<PolicyProblem> problems) {

    public ValidatedPolicies {
        rules = List.copyOf(rules);
        problems = List.copyOf(problems);
    }

    public List<EgressRule> rulesFor(ServiceAccountRef identity) {
        return rules.stream().filter(r -> r.sources().contains(identity)).toList();
    }

    /** Every identity some accepted policy names as a source. */
    public Set<ServiceAccountRef> namedIdentities() {
        Set<ServiceAccountRef> identities = new TreeSet<>();
        rules.forEach(r -> identities.addAll(r.sources()));
        return identities;
    }
}
