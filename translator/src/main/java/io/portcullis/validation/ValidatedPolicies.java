package io.portcullis.validation;

import io.portcullis.crds.EgressSettings;
import io.portcullis.input.ServiceAccountRef;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
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
        this(null, mesh, rules, problems, auditedNamespaces);
    }

    /**
     * The outcome of a change from {@code previous}, reusing its index for every identity the change does not
     * touch. When the rules are the same objects at the same positions but a few (an Egress edited in place, the
     * common change), only the identities those few name, before or after, are indexed again: indexing all
     * 10,000 rules on every one-policy change was a large part of validating it incrementally.
     *
     * @param previous the last result; null: index every rule
     */
    ValidatedPolicies(
            ValidatedPolicies previous,
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
        this.rulesBySource = previous == null ? index(this.rules) : reindexed(previous, this.rules);
    }

    /** {@code previous}'s index brought to {@code rules}: see the constructor. */
    private static Map<ServiceAccountRef, List<EgressRule>> reindexed(
            ValidatedPolicies previous, List<EgressRule> rules) {
        List<Replacement> replaced = replacedInPlace(previous.rules, rules);
        if (replaced == null) {
            return index(rules);
        }
        Set<ServiceAccountRef> touched = new HashSet<>();
        for (Replacement replacement : replaced) {
            touched.addAll(replacement.was().sources());
            touched.addAll(replacement.now().sources());
        }
        Map<ServiceAccountRef, List<EgressRule>> bySource = new HashMap<>(previous.rulesBySource);
        for (ServiceAccountRef identity : touched) {
            List<EgressRule> named = replacedIn(previous.rulesFor(identity), identity, replaced);
            if (named == null) {
                named = new ArrayList<>();
                for (EgressRule rule : rules) {
                    if (rule.sources().contains(identity)) {
                        named.add(rule);
                    }
                }
            }
            if (named.isEmpty()) {
                bySource.remove(identity);
            } else {
                bySource.put(identity, List.copyOf(named));
            }
        }
        return bySource;
    }

    /** A rule replaced by another at the same position of the rules. */
    private record Replacement(EgressRule was, EgressRule now) {}

    /**
     * An identity's rules with each replacement made in place, without walking all rules (at 10,000 policies that
     * walk, once per identity a change touched, was a linear pass of every one-policy change); null when that cannot
     * tell: a replacement names the identity where the rule it replaces did not (where it goes in the order is known
     * only from all rules), or the replaced rule object is not in the identity's list exactly once.
     */
    @SuppressWarnings("ReferenceEquality") // rule objects are what positions are matched by
    private static List<EgressRule> replacedIn(
            List<EgressRule> before, ServiceAccountRef identity, List<Replacement> replaced) {
        List<EgressRule> named = new ArrayList<>(before);
        for (Replacement replacement : replaced) {
            boolean was = replacement.was().sources().contains(identity);
            boolean now = replacement.now().sources().contains(identity);
            if (!was) {
                if (now) {
                    return null;
                }
                continue;
            }
            int at = -1;
            for (int i = 0; i < named.size(); i++) {
                if (named.get(i) == replacement.was()) {
                    if (at >= 0) {
                        return null;
                    }
                    at = i;
                }
            }
            if (at < 0) {
                return null;
            }
            if (now) {
                named.set(at, replacement.now());
            } else {
                named.remove(at);
            }
        }
        return named;
    }

    /** Each identity's rules, in the order of {@code rules}. */
    private static Map<ServiceAccountRef, List<EgressRule>> index(List<EgressRule> rules) {
        Map<ServiceAccountRef, List<EgressRule>> bySource = new HashMap<>();
        for (EgressRule rule : rules) {
            for (ServiceAccountRef source : rule.sources()) {
                bySource.computeIfAbsent(source, s -> new ArrayList<>()).add(rule);
            }
        }
        bySource.replaceAll((source, list) -> List.copyOf(list));
        return bySource;
    }

    /** Past this many rules replaced, indexing them all again costs no more than finding who they name. */
    private static final int FEW_REPLACED = 64;

    /**
     * The rules replaced at their positions, in order; null when the change is not a few replacements in place (rules
     * added, removed or moved, or many replaced).
     */
    @SuppressWarnings("ReferenceEquality") // an unchanged Egress keeps its rule object across validations
    private static List<Replacement> replacedInPlace(List<EgressRule> before, List<EgressRule> after) {
        if (before.size() != after.size()) {
            return null;
        }
        List<Replacement> replaced = new ArrayList<>();
        for (int i = 0; i < after.size(); i++) {
            EgressRule was = before.get(i);
            EgressRule now = after.get(i);
            if (was != now) {
                if (replaced.size() == FEW_REPLACED) {
                    return null;
                }
                replaced.add(new Replacement(was, now));
            }
        }
        return replaced;
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
