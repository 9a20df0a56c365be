package io.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcullis.crds.MeshConfig;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.SourceUpdate;
import io.portcullis.translator.EgressTranslator;
import io.portcullis.translator.TranslationReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "translate",
        mixinStandardHelpOptions = true,
        description = {
            "Translate a directory of manifests offline and print the problems, the per-identity model and the "
                    + "Envoy resources as YAML; no control plane or Kubernetes needed. Exits 1 if a file could not be "
                    + "read cleanly (each such file is reported; the others are still translated).",
            "With --server: print the same for the identities given with --identity, as the running control plane"
                    + " serves them (quarantined policies and lock-downs included), without reading any file: fast at"
                    + " any number of policies. Exits 1 if the control plane reports a file it could not read."
        })
final class TranslateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(
            names = "--config-dir",
            defaultValue = "${env:PORTCULLIS_CONFIG_DIR}",
            description = "Directory of the manifests to translate (or set PORTCULLIS_CONFIG_DIR).")
    Path configDir;

    @Option(names = "--mesh-namespace", defaultValue = MeshConfig.DEFAULT_NAMESPACE)
    String meshNamespace;

    @Option(
            names = "--identity",
            description = "namespace/serviceAccount (repeatable); default: every identity a policy names.")
    List<String> identities = List.of();

    @Option(
            names = "--server",
            paramLabel = "URL",
            description = "Instead of --config-dir: a running control plane's debug endpoint, e.g."
                    + " http://127.0.0.1:15080; prints what it serves to each --identity (/debug/xds) and its"
                    + " problems (/debug/problems).")
    URI server;

    @Option(
            names = "--token-file",
            description = "With --server: file holding the debug endpoint's bearer token (serve --debug-token-file).")
    Path tokenFile;

    @Override
    public Integer call() throws Exception {
        boolean configDirGiven = spec.commandLine().getParseResult().hasMatchedOption("--config-dir");
        if (server != null && configDirGiven) {
            return usage("--server and --config-dir: translate from one of them, not both");
        }
        if (tokenFile != null && server == null) {
            return usage("--token-file goes with --server");
        }
        if (server != null) {
            if (identities.isEmpty()) {
                return usage("--server needs --identity NAMESPACE/SERVICEACCOUNT (repeatable): the control plane is"
                        + " asked for the identities given");
            }
            return live();
        }
        if (configDir == null) {
            return usage("translate needs --config-dir DIR (or PORTCULLIS_CONFIG_DIR), or --server URL of a running"
                    + " control plane's debug endpoint with --identity");
        }
        return offline();
    }

    private int offline() throws IOException {
        SourceUpdate update;
        try (DirectoryConfigSource source = new DirectoryConfigSource(configDir, meshNamespace)) {
            update = source.readOnce();
        }
        PrintWriter err = spec.commandLine().getErr();
        update.problems().forEach(p -> err.println("problem: " + p));
        err.flush();
        EgressTranslator translator = new EgressTranslator();
        var policies = translator.validate(update.snapshot());
        var targets = identities.isEmpty()
                ? policies.namedIdentities()
                : identities.stream().map(ServiceAccountRef::parse).toList();
        print(TranslationReport.toYaml(translator.translate(policies, targets)));
        return update.problems().isEmpty() ? 0 : 1;
    }

    /**
     * The offline report's shape, filled from the debug endpoint: {@code problems} as the control plane's policy
     * problems (the same lines), and per identity the {@code model} and {@code xds} it serves.
     */
    private int live() throws IOException {
        // Sorted and once each, as the offline report lists them.
        List<ServiceAccountRef> targets = identities.stream()
                .map(ServiceAccountRef::parse)
                .distinct()
                .sorted()
                .toList();
        ObjectNode report = JsonNodeFactory.instance.objectNode();
        var problems = report.putArray("problems");
        DebugEndpointClient client = new DebugEndpointClient(server, tokenFile);
        JsonNode problemsAnswer = client.get("/debug/problems");
        for (JsonNode problem : problemsAnswer.path("policies")) {
            problems.add(problem.path("severity").asText() + " "
                    + problem.path("resource").asText() + " "
                    + problem.path("field").asText() + ": "
                    + problem.path("message").asText());
        }
        ObjectNode shown = report.putObject("identities");
        for (ServiceAccountRef identity : targets) {
            JsonNode served = client.get("/debug/xds/" + identity.namespace() + "/" + identity.name());
            ObjectNode xds = JsonNodeFactory.instance.objectNode();
            for (String field : List.of("version", "listeners", "routes", "clusters")) {
                xds.set(field, served.get(field));
            }
            ObjectNode entry = shown.putObject(identity.toString());
            entry.set("model", served.get("model"));
            entry.set("xds", xds);
        }
        PrintWriter err = spec.commandLine().getErr();
        problemsAnswer.path("source").forEach(p -> err.println("problem: " + p.asText()));
        for (JsonNode rejected : problemsAnswer.path("rejectedByEnvoy")) {
            err.println(
                    "rejected by Envoy: identity " + rejected.path("identity").asText() + ", "
                            + (rejected.path("resource").isNull()
                                    ? "all policies"
                                    : rejected.path("resource").asText())
                            + " left out: " + rejected.path("envoyMessage").asText());
        }
        err.flush();
        print(TranslationReport.toYaml(report));
        return problemsAnswer.path("source").isEmpty() ? 0 : 1;
    }

    private void print(String yaml) {
        PrintWriter out = spec.commandLine().getOut();
        out.print(yaml);
        out.flush();
    }

    private int usage(String message) {
        spec.commandLine().getErr().println("error: " + message);
        return 2;
    }
}
