package io.portcullis.cli;

import io.portcullis.crds.MeshConfig;
import io.portcullis.source.ManifestStore;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the kubectl-like commands that edit the directory config source. */
final class StoreOptions {

    @Option(
            names = "--config-dir",
            required = true,
            defaultValue = "${env:PORTCULLIS_CONFIG_DIR}",
            description = "The directory 'portcullis serve' watches (or set PORTCULLIS_CONFIG_DIR).")
    Path configDir;

    @Option(names = "--mesh-namespace", defaultValue = MeshConfig.DEFAULT_NAMESPACE)
    String meshNamespace;

    ManifestStore store() {
        return new ManifestStore(configDir, meshNamespace);
    }
}
