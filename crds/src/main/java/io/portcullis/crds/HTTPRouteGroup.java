package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * SMI {@code HTTPRouteGroup} ({@code specs.smi-spec.io/v1alpha4}): named HTTP matches (path regex,
 * methods, headers) referenced from {@link EgressMatch}.
 *
 * <p>{@code metadata.namespace} is whatever the manifest said (possibly null); defaulting it is
 * the caller's decision.
 */
@Group(HTTPRouteGroup.GROUP)
@Version(HTTPRouteGroup.VERSION)
@Kind(HTTPRouteGroup.KIND)
@Plural(HTTPRouteGroup.PLURAL)
@ShortNames("htr")
@JsonIgnoreProperties(ignoreUnknown = true)
public final class HTTPRouteGroup extends CustomResource<HTTPRouteGroupSpec, Void> implements Namespaced {
    public static final String GROUP = "specs.smi-spec.io";
    public static final String VERSION = "v1alpha4";
    public static final String KIND = "HTTPRouteGroup";
    public static final String PLURAL = "httproutegroups";

    public HTTPRouteGroup() {}

    public HTTPRouteGroup(String namespace, String name, HTTPRouteGroupSpec spec) {
        getMetadata().setNamespace(namespace);
        getMetadata().setName(name);
        setSpec(spec);
    }
}
