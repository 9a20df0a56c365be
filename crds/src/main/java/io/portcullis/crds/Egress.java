package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Flomesh {@code Egress} policy ({@code policy.flomesh.io/v1alpha1}, plural {@code egresses}):
 * allows the listed sources to reach hosts / IP ranges outside the mesh on the listed ports.
 *
 * <p>{@code metadata.namespace} is whatever the manifest said (possibly null); defaulting it is
 * the caller's decision. The status ({@link PolicyStatus}) is written only through the {@code status}
 * subresource, so a user's {@code kubectl apply} never overwrites it and the control plane never touches
 * the spec.
 */
@Group(Egress.GROUP)
@Version(Egress.VERSION)
@Kind(Egress.KIND)
@Plural(Egress.PLURAL)
@ShortNames(Egress.SHORT_NAME)
// kubectl get egress -A: what a policy opens and whether it is enforced, without -o yaml. Whole lists (printed as
// JSON): the API server prints only the first value of a [*] path, and a column that hid the second port would
// mislead. The generator orders columns by JSONPath, hence AGE before HOSTS.
@AdditionalPrinterColumn(name = "Hosts", jsonPath = ".spec.hosts", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ports", jsonPath = ".spec.ports", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
        name = "Accepted",
        jsonPath = PolicyStatus.ACCEPTED_STATUS_PATH,
        type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
        name = "Age",
        jsonPath = ".metadata.creationTimestamp",
        type = AdditionalPrinterColumn.Type.DATE)
@JsonIgnoreProperties(ignoreUnknown = true)
public final class Egress extends CustomResource<EgressSpec, PolicyStatus> implements Namespaced {
    public static final String GROUP = "policy.flomesh.io";
    public static final String VERSION = "v1alpha1";
    public static final String KIND = "Egress";
    public static final String PLURAL = "egresses";
    /** FSM's short name, so {@code kubectl get egress} and {@code kubectl delete egress NAME} work as in its guide. */
    public static final String SHORT_NAME = "egress";

    public Egress() {}

    public Egress(String namespace, String name, EgressSpec spec) {
        getMetadata().setNamespace(namespace);
        getMetadata().setName(name);
        setSpec(spec);
    }
}
