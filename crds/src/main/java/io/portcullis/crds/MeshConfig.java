package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * FSM {@code MeshConfig} ({@code config.flomesh.io/v1alpha3}, FSM's current storage version; the
 * older v1alpha1/v1alpha2 are deprecated in FSM and not read here). The mesh-wide instance is
 * {@value #DEFAULT_NAME} in {@value #DEFAULT_NAMESPACE}.
 *
 * <p>Only the egress-related fields are modelled; every other field of FSM's MeshConfig is kept
 * verbatim (see {@link MeshConfigSpec#otherFields()}) so that a read / merge-patch / write cycle
 * never loses configuration.
 */
@Group(MeshConfig.GROUP)
@Version(MeshConfig.VERSION)
@Kind(MeshConfig.KIND)
@Plural(MeshConfig.PLURAL)
@ShortNames("meshconfig")
@JsonIgnoreProperties(ignoreUnknown = true)
public final class MeshConfig extends CustomResource<MeshConfigSpec, Void> implements Namespaced {
    public static final String GROUP = "config.flomesh.io";
    public static final String VERSION = "v1alpha3";
    public static final String KIND = "MeshConfig";
    public static final String PLURAL = "meshconfigs";
    /** Name of the mesh-wide MeshConfig FSM reads ({@code kubectl patch meshconfig fsm-mesh-config}). */
    public static final String DEFAULT_NAME = "fsm-mesh-config";
    /** Namespace FSM is installed into by default. */
    public static final String DEFAULT_NAMESPACE = "fsm-system";

    public MeshConfig() {}

    public MeshConfig(String namespace, String name, MeshConfigSpec spec) {
        getMetadata().setNamespace(namespace);
        getMetadata().setName(name);
        setSpec(spec);
    }

    /** Egress settings of this MeshConfig; secure defaults when the spec or the flags are absent. */
    @JsonIgnore
    public EgressSettings egressSettings() {
        MeshConfigSpec spec = getSpec();
        return spec == null ? EgressSettings.DEFAULTS : spec.egressSettings();
    }
}
