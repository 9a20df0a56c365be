package io.portcullis.crds;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Whether egress refusals are enforced or only rehearsed. Set with the annotation {@value #ANNOTATION}
 * on a Namespace (every sidecar of the namespace) or on an Egress (the ports it names, for its sources).
 * FSM has no egress audit mode, so the name is ours. Absent means {@link #ENFORCE}; a value that is
 * neither {@code enforce} nor {@code audit} is reported and treated as {@link #ENFORCE}: a typo must
 * never open a hole.
 */
public enum EgressMode {
    ENFORCE,
    AUDIT;

    public static final String ANNOTATION = "portcullis.io/egress-mode";

    /** The annotation's value for this mode, as users write it. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The mode an annotation value names; empty for anything but {@code enforce} or {@code audit}. */
    public static Optional<EgressMode> parse(String value) {
        if (value == null) {
            return Optional.empty();
        }
        for (EgressMode mode : values()) {
            if (mode.value().equals(value.trim())) {
                return Optional.of(mode);
            }
        }
        return Optional.empty();
    }

    /** The annotation's raw value on a resource, if it carries one. */
    public static Optional<String> annotation(HasMetadata resource) {
        if (resource.getMetadata() == null) {
            return Optional.empty();
        }
        Map<String, String> annotations = resource.getMetadata().getAnnotations();
        return annotations == null ? Optional.empty() : Optional.ofNullable(annotations.get(ANNOTATION));
    }

    /** The mode a resource asks for; {@link #ENFORCE} when unset or not a valid value (fail closed). */
    public static EgressMode of(HasMetadata resource) {
        return annotation(resource).flatMap(EgressMode::parse).orElse(ENFORCE);
    }
}
