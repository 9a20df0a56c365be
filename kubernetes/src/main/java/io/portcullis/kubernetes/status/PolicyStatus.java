package io.portcullis.kubernetes.status;

import io.portcullis.input.ResourceKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The status one Egress or HTTPRouteGroup should have: its {@code Accepted} condition for the generation
 * that was evaluated. {@code status.observedGeneration} and the condition's {@code observedGeneration}
 * are both that generation.
 *
 * @param resource   which object
 * @param uid        the evaluated object's metadata.uid (null if unknown): a status is never written onto
 *                   a different object that has the same name
 * @param generation the evaluated object's metadata.generation; null when the config source leaves it out
 *                   (the Kubernetes source keeps only what users write), then the writer takes the API
 *                   server's generation if the spec there is the one evaluated ({@link #evaluatedSpec})
 * @param evaluatedSpec the spec that was evaluated
 * @param accepted   the condition's status: whether the resource is enforced
 */
public record PolicyStatus(
        ResourceKey resource,
        String uid,
        Long generation,
        Object evaluatedSpec,
        boolean accepted,
        AcceptedReason reason,
        String message) {

    public static final String CONDITION_TYPE = "Accepted";
    /** metav1.Condition's limit on {@code message}. */
    static final int MAX_MESSAGE = 32768;

    public PolicyStatus {
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(reason, "reason");
        message = message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE - 3) + "..." : message;
    }

    /** This status, stated for generation {@code evaluated}. */
    public PolicyStatus withGeneration(Long evaluated) {
        return new PolicyStatus(resource, uid, evaluated, evaluatedSpec, accepted, reason, message);
    }

    public String conditionStatus() {
        return accepted ? "True" : "False";
    }

    /**
     * Whether the API server's {@code status} already says this, ignoring {@code lastTransitionTime} (which
     * changes only when the condition's status flips) and conditions of other types (not ours).
     */
    public boolean isStatedBy(Map<String, Object> serverStatus) {
        if (serverStatus == null || !Objects.equals(number(serverStatus.get("observedGeneration")), generation)) {
            return false;
        }
        Map<String, Object> condition = acceptedCondition(serverStatus);
        return condition != null
                && conditionStatus().equals(condition.get("status"))
                && reason.reason().equals(condition.get("reason"))
                && message.equals(condition.get("message"))
                && Objects.equals(number(condition.get("observedGeneration")), generation)
                && condition.get("lastTransitionTime") != null;
    }

    /**
     * The {@code status} to write over {@code serverStatus}: conditions of other types kept, and
     * {@code lastTransitionTime} kept unless the condition's status flips (then {@code now}, to the second,
     * as metav1.Time is serialised).
     */
    public Map<String, Object> toStatus(Map<String, Object> serverStatus, Instant now) {
        Map<String, Object> previous = serverStatus == null ? null : acceptedCondition(serverStatus);
        Object transition = previous != null
                        && conditionStatus().equals(previous.get("status"))
                        && previous.get("lastTransitionTime") != null
                ? previous.get("lastTransitionTime")
                : now.truncatedTo(ChronoUnit.SECONDS).toString();
        Map<String, Object> condition = new LinkedHashMap<>();
        condition.put("type", CONDITION_TYPE);
        condition.put("status", conditionStatus());
        if (generation != null) {
            condition.put("observedGeneration", generation);
        }
        condition.put("lastTransitionTime", transition);
        condition.put("reason", reason.reason());
        condition.put("message", message);
        List<Object> conditions = new ArrayList<>();
        if (serverStatus != null && serverStatus.get("conditions") instanceof List<?> existing) {
            existing.stream()
                    .filter(c -> !(c instanceof Map<?, ?> m && CONDITION_TYPE.equals(m.get("type"))))
                    .forEach(conditions::add);
        }
        conditions.add(condition);
        Map<String, Object> status = new LinkedHashMap<>();
        if (serverStatus != null) {
            status.putAll(serverStatus);
        }
        if (generation != null) {
            status.put("observedGeneration", generation);
        } else {
            status.remove("observedGeneration");
        }
        status.put("conditions", conditions);
        return status;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> acceptedCondition(Map<String, Object> status) {
        if (status.get("conditions") instanceof List<?> conditions) {
            for (Object c : conditions) {
                if (c instanceof Map<?, ?> m && CONDITION_TYPE.equals(m.get("type"))) {
                    return (Map<String, Object>) m;
                }
            }
        }
        return null;
    }

    /** JSON numbers come back as Integer or Long depending on size. */
    private static Long number(Object value) {
        return value instanceof Number n ? n.longValue() : null;
    }
}
