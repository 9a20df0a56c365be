package io.portcullis.validation;

import io.portcullis.crds.EgressSettings;
import io.portcullis.input.ServiceAccountRef;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The outcome of validating one resource snapshot: what is enforced, and what was wrong.
 *
 * <p>A value class with the accessors, equality and text of the record it was, plus one thing a record cannot
 * hold: the rules indexed by the identities they name, built once here. Every identity's model asks for its
 * rules, and filtering all rules for each of them made a mesh of I identities and P policies cost I×P.
 */
public final class ValidatedPolicies {

    private final EgressSettings mesh;
    private final List<EgressRule> rules;
    private final List<PolicyProblem> problems;
    private final SortedSet<String> auditedNamespaces;
    /** Each named identity's rules, in the order of {@link #rules}. */
    private final Map<ServiceAccountRef, List<EgressRule>> rulesBySource;

    /**
     * @param auditedNamespaces namespaces in audit mode ({@code portcullis.io/egress-mode: audit}), from the
     *     snapshot
     */
    public ValidatedPolicies(
            EgressSettings mesh,
            List<EgressRule> rules,
            List<PolicyProblem> problems,
            SortedSet<String> auditedNamespaces) {
        this.mesh = mesh;
        this.rules = List.copyOf(rules);
        this.problems = List.copyOf(problems);
        this.auditedNamespaces = auditedNamespaces == null
                ? Collections.emptySortedSet()
                : Collections.unmodifiableSortedSet(new TreeSet<>(auditedNamespaces));
        Map<ServiceAccountRef, List<EgressRule>> bySource = new HashMap<>();
        for (EgressRule rule : this.rules) {
            for (ServiceAccountRef source : rule.sources()) {
                bySource.computeIfAbsent(source, s -> new ArrayList<>()).add(rule);
            }
        }
        bySource.replaceAll((source, list) -> List.copyOf(list));
        this.rulesBySource = bySource;
    }

    /** Policies of a mesh in which every namespace is enforced. */
    public ValidatedPolicies(EgressSettings mesh, List<EgressRule> rules, List<PolicyProblem> problems) {
        this(mesh, rules, problems, null);
    }

    public EgressSettings mesh() {
        return mesh;
    }

    public List<EgressRule> rules() {
        return rules;
    }

    public List<PolicyProblem> problems() {
        return problems;
    }

    public SortedSet<String> auditedNamespaces() {
        return auditedNamespaces;
    }

    /** Whether the identity's namespace is in audit mode. */
    public boolean audited(ServiceAccountRef identity) {
        return auditedNamespaces.contains(identity.namespace());
    }

    /** The accepted rules naming {@code identity} as a source, in validation order. */
    public List<EgressRule> rulesFor(ServiceAccountRef identity) {
        return rulesBySource.getOrDefault(identity, List.of());
    }

    /** Every identity some accepted policy names as a source. */
    public Set<ServiceAccountRef> namedIdentities() {
        return new TreeSet<>(rulesBySource.keySet());
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ValidatedPolicies that
                && Objects.equals(mesh, that.mesh)
                && rules.equals(that.rules)
                && problems.equals(that.problems)
                && auditedNamespaces.equals(that.auditedNamespaces);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mesh, rules, problems, auditedNamespaces);
    }

    @Override
    public String toString() {
        return "ValidatedPolicies[mesh=" + mesh + ", rules=" + rules + ", problems=" + problems + ", auditedNamespaces="
                + auditedNamespaces + "]";
    }
}
