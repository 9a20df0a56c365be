package io.portcullis.validation;

import io.portcullis.crds.EgressSettings;
import io.portcullis.input.ServiceAccountRef;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The outcome of validating one resource snapshot: what is enforced, and what was wrong.
 *
 * @param auditedNamespaces namespaces in audit mode ({@code portcullis.io/egress-mode: audit}), from the snapshot
 */
public record ValidatedPolicies(
        EgressSettings mesh,
        List<EgressRule> rules,
        List<PolicyProblem> problems,
        SortedSet<String> auditedNamespaces) {

    public ValidatedPolicies {
        rules = List.copyOf(rules);
        problems = List.copyOf(problems);
        auditedNamespaces = auditedNamespaces == null
                ? Collections.emptySortedSet()
                : Collections.unmodifiableSortedSet(new TreeSet<>(auditedNamespaces));
    }

    /** Policies of a mesh in which every namespace is enforced. */
    public ValidatedPolicies(EgressSettings mesh, List<EgressRule> rules, List<PolicyProblem> problems) {
        this(mesh, rules, problems, null);
    }

    /** Whether the identity's namespace is in audit mode. */
    public boolean audited(ServiceAccountRef identity) {
        return auditedNamespaces.contains(identity.namespace());
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
