package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Flomesh {@code Egress} policy ({@code policy.flomesh.io/v1alpha1}, plural {@code egresses}):
 * allows the listed sources to reach hosts / IP ranges outside the mesh on the listed ports.
 *
 * <p>{@code metadata.namespace} is whatever the manifest said (possibly null); defaulting it is
 * the caller's decision.
 */
@Group(Egress.GROUP)
@Version(Egress.VERSION)
@Kind(Egress.KIND)
@Plural(Egress.PLURAL)
@JsonIgnoreProperties(ignoreUnknown = true)
public final class Egress extends CustomResource<EgressSpec, Void> implements Namespaced {
    public static final String GROUP = "policy.flomesh.io";
    public static final String VERSION = "v1alpha1";
    public static final String KIND = "Egress";
    public static final String PLURAL = "egresses";

    public Egress() {}

    public Egress(String namespace, String name, EgressSpec spec) {
        getMetadata().setNamespace(namespace);
        getMetadata().setName(name);
        setSpec(spec);
    }
}
