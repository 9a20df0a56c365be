package io.portcullis.crds;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * One object a manifest defines, as {@code portcullis apply} stores it: its kind, name and namespace (which name
 * its file) and the YAML {@link ManifestWriter} writes for it. Read by {@link ManifestReader#readObjects}: a
 * document in {@link PlainForm} stays a tree ({@link Plain}), any other is bound to the model ({@link Bound}), so
 * both are written the same way and every problem is the model's.
 */
public sealed interface ManifestObject {

    KnownKind kind();

    String name();

    /** {@code metadata.namespace} as written, or null when the manifest gives none. */
    String namespace();

    /** The text to store: the object with {@code metadata.namespace} set to {@code namespace} (null: none). */
    String yaml(String namespace);

    /** kubectl's name for it: {@code egress.policy.flomesh.io/name}, or {@code namespace/name} for the core group. */
    default String displayName() {
        return kind().kubectlName(name());
    }

    /** A document bound to the fabric8 model. */
    record Bound(KnownKind kind, HasMetadata resource) implements ManifestObject {

        @Override
        public String name() {
            return resource.getMetadata().getName();
        }

        @Override
        public String namespace() {
            return resource.getMetadata().getNamespace();
        }

        @Override
        public String yaml(String namespace) {
            resource.getMetadata().setNamespace(namespace);
            return new ManifestWriter().write(resource);
        }
    }

    /** A document in {@link PlainForm}: the tree as the model would write it. */
    record Plain(KnownKind kind, ObjectNode tree) implements ManifestObject {

        @Override
        public String name() {
            return tree.path("metadata").path("name").asText();
        }

        @Override
        public String namespace() {
            return tree.path("metadata").hasNonNull("namespace")
                    ? tree.path("metadata").path("namespace").asText()
                    : null;
        }

        @Override
        public String yaml(String namespace) {
            ObjectNode written = tree.deepCopy();
            ObjectNode metadata = (ObjectNode) written.get("metadata");
            if (namespace == null) {
                metadata.remove("namespace");
            } else {
                metadata.put("namespace", namespace); // the last of ObjectMeta's fields PlainForm keeps
            }
            try {
                return Yaml.LENIENT.writeValueAsString(written);
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException("cannot serialize " + kind.kind() + " " + name(), e);
            }
        }
    }

    /** What {@link ManifestReader#readObjects} read: the objects in document order, or the problems. */
    record Objects(List<ManifestObject> objects, List<ManifestProblem> problems) {

        public Objects {
            objects = List.copyOf(objects);
            problems = List.copyOf(problems);
        }
    }
}
