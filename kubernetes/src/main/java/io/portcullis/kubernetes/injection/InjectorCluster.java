package io.portcullis.kubernetes.injection;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.portcullis.crds.MeshConfig;
import java.util.Optional;

/** What the injector reads from and writes to the API server. */
public interface InjectorCluster {

    Optional<Namespace> namespace(String name);

    /** The mesh-wide MeshConfig, {@code fsm-system/fsm-mesh-config}, if it exists. */
    Optional<MeshConfig> meshConfig();

    Optional<Secret> secret(String namespace, String name);

    /** Creates or replaces the Secret. */
    void store(Secret secret);
}
