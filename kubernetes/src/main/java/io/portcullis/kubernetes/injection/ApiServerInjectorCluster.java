package io.portcullis.kubernetes.injection;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.crds.MeshConfig;
import java.util.Optional;

/** {@link InjectorCluster} on a real API server. */
public record ApiServerInjectorCluster(KubernetesClient client) implements InjectorCluster {

    static final String FIELD_MANAGER = "portcullis-injector";

    @Override
    public Optional<Namespace> namespace(String name) {
        return Optional.ofNullable(client.namespaces().withName(name).get());
    }

    @Override
    public Optional<MeshConfig> meshConfig() {
        return Optional.ofNullable(client.resources(MeshConfig.class)
                .inNamespace(MeshConfig.DEFAULT_NAMESPACE)
                .withName(MeshConfig.DEFAULT_NAME)
                .get());
    }

    @Override
    public Optional<Secret> secret(String namespace, String name) {
        return Optional.ofNullable(
                client.secrets().inNamespace(namespace).withName(name).get());
    }

    @Override
    public void store(Secret secret) {
        client.secrets()
                .inNamespace(secret.getMetadata().getNamespace())
                .resource(secret)
                .fieldManager(FIELD_MANAGER)
                .forceConflicts()
                .serverSideApply();
    }
}
