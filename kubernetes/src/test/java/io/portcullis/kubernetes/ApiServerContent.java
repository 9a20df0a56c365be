package io.portcullis.kubernetes;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.KnownKind;
import io.portcullis.crds.MeshConfig;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.testfixtures.EgressManifest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What the API server holds right now, read with plain list calls (no informer, no cache): what a
 * source's published snapshot must equal once it has caught up.
 */
final class ApiServerContent {

    private ApiServerContent() {}

    static ResourceDefinitionContext context(Class<? extends HasMetadata> type) {
        KnownKind kind = KnownKind.byType(type).orElseThrow();
        return new ResourceDefinitionContext.Builder()
                .withGroup(kind.group())
                .withVersion(kind.version())
                .withPlural(kind.plural())
                .withKind(kind.kind())
                .withNamespaced(true)
                .build();
    }

    /**
     * The snapshot of the Egresses and HTTPRouteGroups of enrolled namespaces, the mesh's MeshConfig and the
     * enrolled namespaces in audit mode.
     */
    static ResourceSnapshot snapshot(KubernetesClient client, String meshNamespace) {
        Set<String> enrolled = enrolledNamespaces(client);
        ApiObjectReader reader = new ApiObjectReader();
        List<Egress> egresses = new ArrayList<>();
        for (GenericKubernetesResource object : list(client, Egress.class)) {
            if (enrolled.contains(object.getMetadata().getNamespace())) {
                reader.read(object).resource().map(Egress.class::cast).ifPresent(egresses::add);
            }
        }
        List<HTTPRouteGroup> groups = new ArrayList<>();
        for (GenericKubernetesResource object : list(client, HTTPRouteGroup.class)) {
            if (enrolled.contains(object.getMetadata().getNamespace())) {
                reader.read(object).resource().map(HTTPRouteGroup.class::cast).ifPresent(groups::add);
            }
        }
        GenericKubernetesResource mesh = client.genericKubernetesResources(context(MeshConfig.class))
                .inNamespace(meshNamespace)
                .withName(MeshConfig.DEFAULT_NAME)
                .get();
        MeshConfig meshConfig = mesh == null
                ? null
                : reader.read(mesh).resource().map(MeshConfig.class::cast).orElse(null);
        return ResourceSnapshot.of(meshConfig, egresses, groups).withAuditedNamespaces(auditedNamespaces(client));
    }

    /** The enrolled namespaces annotated {@code portcullis.io/egress-mode: audit}. */
    static Set<String> auditedNamespaces(KubernetesClient client) {
        return client
                .namespaces()
                .withLabel(KubernetesConfigSource.ENROLMENT_LABEL, KubernetesConfigSource.ENROLMENT_VALUE)
                .list()
                .getItems()
                .stream()
                .filter(n -> n.getMetadata().getAnnotations() != null
                        && "audit".equals(n.getMetadata().getAnnotations().get("portcullis.io/egress-mode")))
                .map(n -> n.getMetadata().getName())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    static Set<String> enrolledNamespaces(KubernetesClient client) {
        return client
                .namespaces()
                .withLabel(KubernetesConfigSource.ENROLMENT_LABEL, KubernetesConfigSource.ENROLMENT_VALUE)
                .list()
                .getItems()
                .stream()
                .map(n -> n.getMetadata().getName())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    static List<GenericKubernetesResource> list(KubernetesClient client, Class<? extends HasMetadata> type) {
        return client.genericKubernetesResources(context(type))
                .inAnyNamespace()
                .list()
                .getItems();
    }

    /** The keys of a snapshot's policies, for failure messages that name what is missing or extra. */
    static List<String> keys(ResourceSnapshot snapshot) {
        List<String> keys = new ArrayList<>();
        snapshot.egresses().forEach(e -> keys.add(ResourceKey.of(e).toString()));
        snapshot.routeGroups().forEach(g -> keys.add(ResourceKey.of(g).toString()));
        return keys;
    }

    /** Creates or replaces an object given as YAML (any kind the server knows) through the admin client. */
    static GenericKubernetesResource apply(KubernetesClient client, Class<? extends HasMetadata> type, String yaml) {
        GenericKubernetesResource object = Serialization.unmarshal(yaml, GenericKubernetesResource.class);
        return client.genericKubernetesResources(context(type))
                .inNamespace(object.getMetadata().getNamespace())
                .resource(object)
                .createOr(existing -> existing.update());
    }

    /** An Egress letting curl in {@code namespace} reach {@code <name>.example.com} over http on {@code port}. */
    static String egress(String namespace, String name, int port) {
        return EgressManifest.named(name)
                .namespace(namespace)
                .fromServiceAccount("curl", namespace)
                .host(name + ".example.com")
                .port(port, "http")
                .yaml();
    }
}
