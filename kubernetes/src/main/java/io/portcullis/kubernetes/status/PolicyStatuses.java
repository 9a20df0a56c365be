package io.portcullis.kubernetes.status;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.ir.SidecarModelBuilder;
import io.portcullis.validation.EgressRule;
import io.portcullis.validation.PolicyProblem;
import io.portcullis.validation.ValidatedPolicies;
import io.portcullis.xds.PolicyEvaluation;
import io.portcullis.xds.Quarantine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The status every Egress and HTTPRouteGroup of an evaluation should have. Pure: the same evaluation
 * always gives the same statuses, so a writer can compare them with what the API server has and write
 * only differences.
 *
 * <p>Order of precedence for one resource: its validation errors (not enforced; the reason is the first
 * error's cause), then a rejection by a sidecar's Envoy (valid but left out), then warnings (enforced, with
 * the part that has no effect named), then accepted. Every problem is in the message as
 * {@code <JSON path>: <what is wrong and the fix>}, exactly as the validator worded it, numbered
 * {@code (1) ... (2) ...} when there are several. One line, because kubectl describe indents only the
 * first line of a message.
 */
public final class PolicyStatuses {

    private PolicyStatuses() {}

    public static SortedMap<ResourceKey, PolicyStatus> of(PolicyEvaluation evaluation) {
        ValidatedPolicies validated = evaluation.validated();
        Map<ResourceKey, List<PolicyProblem>> problems = new LinkedHashMap<>();
        validated.problems().forEach(p -> add(problems, p));
        conflicts(validated).forEach(p -> add(problems, p));
        Map<ResourceKey, List<Quarantine>> rejected = evaluation.quarantined().stream()
                .collect(Collectors.groupingBy(Quarantine::policy, TreeMap::new, Collectors.toList()));
        Map<ResourceKey, EgressRule> rules = new TreeMap<>();
        validated.rules().forEach(rule -> rules.put(rule.origin().resource(), rule));

        SortedMap<ResourceKey, PolicyStatus> statuses = new TreeMap<>();
        for (HasMetadata egress : evaluation.snapshot().egresses()) {
            ResourceKey key = ResourceKey.of(egress);
            EgressRule rule = rules.get(key);
            String enforced = rule == null
                    ? "enforced"
                    : "enforced for the sidecars of "
                            + rule.sources().stream()
                                    .map(ServiceAccountRef::toString)
                                    .collect(Collectors.joining(", "));
            statuses.put(key, status(egress, problems.get(key), rejected.get(key), enforced));
        }
        for (HasMetadata group : evaluation.snapshot().routeGroups()) {
            ResourceKey key = ResourceKey.of(group);
            statuses.put(key, status(group, problems.get(key), null, "valid; enforced where an Egress names it"));
        }
        return statuses;
    }

    private static PolicyStatus status(
            HasMetadata object, List<PolicyProblem> problems, List<Quarantine> rejected, String enforced) {
        ResourceKey key = ResourceKey.of(object);
        String uid = object.getMetadata().getUid();
        Long generation = object.getMetadata().getGeneration();
        Object spec = object instanceof CustomResource<?, ?> resource ? resource.getSpec() : null;
        List<PolicyProblem> all = problems == null ? List.of() : problems;
        List<PolicyProblem> errors = all.stream()
                .filter(p -> p.severity() == PolicyProblem.Severity.ERROR)
                .toList();
        List<PolicyProblem> warnings = all.stream()
                .filter(p -> p.severity() == PolicyProblem.Severity.WARNING)
                .toList();
        if (!errors.isEmpty()) {
            return new PolicyStatus(
                    key,
                    uid,
                    generation,
                    spec,
                    false,
                    AcceptedReason.of(errors.get(0).cause()),
                    describe(errors));
        }
        if (rejected != null && !rejected.isEmpty()) {
            List<String> parts = new ArrayList<>();
            for (Quarantine q : rejected) {
                parts.add("the Envoy of " + q.identity() + " (sidecar " + q.nodeId() + ") rejected " + q.type()
                        + " version " + q.version() + " built with it: " + q.envoyMessage() + ".");
            }
            parts.add(rejected.get(0).fix());
            return new PolicyStatus(
                    key, uid, generation, spec, false, AcceptedReason.REJECTED_BY_ENVOY, String.join(" ", parts));
        }
        if (!warnings.isEmpty()) {
            AcceptedReason reason = warnings.stream().anyMatch(w -> w.cause() == PolicyProblem.Cause.PORT_CONFLICT)
                    ? AcceptedReason.PORT_CONFLICT
                    : AcceptedReason.of(warnings.get(0).cause());
            return new PolicyStatus(key, uid, generation, spec, true, reason, enforced + ", but " + describe(warnings));
        }
        return new PolicyStatus(key, uid, generation, spec, true, AcceptedReason.ACCEPTED, enforced);
    }

    /**
     * Port conflicts arise when the policies of one identity are merged; they are computed for every
     * identity some accepted policy names, whether or not a sidecar of it is connected right now, so the
     * status does not depend on which sidecars happen to be up.
     */
    private static Set<PolicyProblem> conflicts(ValidatedPolicies validated) {
        SidecarModelBuilder models = new SidecarModelBuilder();
        Set<PolicyProblem> conflicts = new LinkedHashSet<>();
        for (ServiceAccountRef identity : validated.namedIdentities()) {
            // Only an enforced policy model has conflicts: passthrough and deny-all enforce no policy.
            if (models.build(validated, identity) instanceof SidecarEgressModel.PolicyEnforced enforced) {
                conflicts.addAll(enforced.conflicts());
            }
        }
        return conflicts;
    }

    private static void add(Map<ResourceKey, List<PolicyProblem>> problems, PolicyProblem problem) {
        List<PolicyProblem> list = problems.computeIfAbsent(problem.resource(), k -> new ArrayList<>());
        if (!list.contains(problem)) {
            list.add(problem);
        }
    }

    private static String describe(List<PolicyProblem> problems) {
        if (problems.size() == 1) {
            return problems.get(0).field() + ": " + problems.get(0).message();
        }
        List<String> numbered = new ArrayList<>();
        for (int i = 0; i < problems.size(); i++) {
            numbered.add("(" + (i + 1) + ") " + problems.get(i).field() + ": "
                    + problems.get(i).message());
        }
        return String.join(" ", numbered);
    }
}
