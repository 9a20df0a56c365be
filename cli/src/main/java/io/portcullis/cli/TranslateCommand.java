package io.portcullis.cli;

import io.portcullis.crds.MeshConfig;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.SourceUpdate;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.translator.TranslationReport;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "translate",
        mixinStandardHelpOptions = true,
        description =
                "Translate a directory of manifests offline and print the problems, the per-identity model and the "
                        + "Envoy resources as YAML; no control plane or Kubernetes needed. Exits 1 if a file could not be "
                        + "read cleanly (each such file is reported; the others are still translated).")
final class TranslateCommand implements Callable<Integer> {

    @Option(
            names = "--config-dir",
            required = true,
            defaultValue = "${env:PORTCULLIS_CONFIG_DIR}",
            description = "Directory of the manifests to translate (or set PORTCULLIS_CONFIG_DIR).")
    Path configDir;

    @Option(names = "--mesh-namespace", defaultValue = MeshConfig.DEFAULT_NAMESPACE)
    String meshNamespace;

    @Option(
            names = "--identity",
            description = "namespace/serviceAccount (repeatable); default: every identity a policy names.")
    List<String> identities = List.of();

    @Override
    public Integer call() throws Exception {
        SourceUpdate update;
        try (DirectoryConfigSource source = new DirectoryConfigSource(configDir, meshNamespace)) {
            update = source.readOnce();
        }
        update.problems().forEach(p -> System.err.println("problem: " + p));
        EgressTranslator translator = new EgressTranslator();
        var policies = translator.validate(update.snapshot());
        var targets = identities.isEmpty()
                ? policies.namedIdentities()
                : identities.stream().map(ServiceAccountRef::parse).toList();
        System.out.print(TranslationReport.toYaml(translator.translate(policies, targets)));
        return update.problems().isEmpty() ? 0 : 1;
    }
}
