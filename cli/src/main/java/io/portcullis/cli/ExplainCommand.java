package io.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.portcullis.crds.MeshConfig;
import io.portcullis.explain.EgressExplainer;
import io.portcullis.explain.EgressRequest;
import io.portcullis.explain.ExplanationReport;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.SourceUpdate;
import io.portcullis.translator.EgressTranslator;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "explain",
        mixinStandardHelpOptions = true,
        description = {
            "Say whether an identity's sidecar allows a connection or request, by which policy and match, or why"
                    + " not (the closest policy and what differs), from the model its Envoy config is built from:"
                    + " offline from a config directory, or live from a control plane (--server).",
            "TARGET: http://host[:port]/path?query (plain HTTP: Host, method, path, headers count),"
                    + " https://host[:port]/ (TLS: the SNI counts) or host:port (raw TCP: the address counts).",
            "Exit codes: 0 allowed, or would-deny (audit mode: the sidecar lets it through and logs would_deny;"
                    + " the verdict line says WOULD-DENY), 1 denied, 2 usage error or undecided (a TCP target named"
                    + " by host on a port whose policies list IP ranges: give --ip), or the config/server could not"
                    + " be read."
        })
final class ExplainCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Option(
            names = "--from",
            required = true,
            paramLabel = "NAMESPACE/SERVICEACCOUNT",
            description = "The workload's identity.")
    String from;

    @Parameters(index = "0", paramLabel = "TARGET", description = "URL or host:port, see above.")
    String target;

    @Option(names = "--method", description = "HTTP method (http:// only; default GET).")
    String method;

    @Option(
            names = "--header",
            paramLabel = "NAME=VALUE",
            description = "Request header, repeatable (http:// only); Host=... replaces the URL's host.")
    List<String> headers = new ArrayList<>();

    @Option(names = "--sni", description = "SNI to send instead of the URL's host (https:// only).")
    String sni;

    @Option(
            names = "--ip",
            description = "The address the workload dials, when TARGET names a host: TCP policies match IP ranges,"
                    + " and explain never resolves names.")
    String ip;

    @Option(
            names = "--config-dir",
            defaultValue = "${env:PORTCULLIS_CONFIG_DIR}",
            description = "Offline: the directory of manifests (or set PORTCULLIS_CONFIG_DIR).")
    Path configDir;

    @Option(names = "--mesh-namespace", defaultValue = MeshConfig.DEFAULT_NAMESPACE)
    String meshNamespace;

    @Option(
            names = "--server",
            paramLabel = "URL",
            description = "Live: the control plane's debug endpoint, e.g. http://127.0.0.1:15080; asks its"
                    + " /debug/explain, which answers from the snapshot it serves.")
    URI server;

    @Option(
            names = "--token-file",
            description = "With --server: file holding the debug endpoint's bearer token (serve --debug-token-file).")
    Path tokenFile;

    @Option(
            names = {"-o", "--output"},
            defaultValue = "text",
            description = "text (a verdict line, then details) or json.")
    String output;

    @Override
    public Integer call() {
        if (!output.equals("text") && !output.equals("json")) {
            return usage("-o " + output + ": choose text or json");
        }
        boolean configDirGiven = spec.commandLine().getParseResult().hasMatchedOption("--config-dir");
        if (server != null && configDirGiven) {
            return usage("--server and --config-dir: explain from one of them, not both");
        }
        if (server == null && configDir == null) {
            return usage("explain needs --config-dir DIR (or PORTCULLIS_CONFIG_DIR) to work offline, or --server URL"
                    + " of a running control plane's debug endpoint");
        }
        if (tokenFile != null && server == null) {
            return usage("--token-file goes with --server");
        }
        JsonNode answer;
        try {
            ServiceAccountRef identity = ServiceAccountRef.parse(from);
            EgressRequest request = EgressRequest.parse(target, method, headers, sni, ip);
            answer = server != null ? live(identity) : offline(identity, request);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        } catch (IOException e) {
            spec.commandLine().getErr().println("error: " + CommandFailure.describe(e));
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 2;
        }
        if (answer == null) {
            return 2;
        }
        try {
            spec.commandLine()
                    .getOut()
                    .print(
                            output.equals("json")
                                    ? JSON.writeValueAsString(answer) + "\n"
                                    : ExplanationReport.toText(answer));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        spec.commandLine().getOut().flush();
        return ExplanationReport.exitCode(answer);
    }

    private JsonNode offline(ServiceAccountRef identity, EgressRequest request) throws IOException {
        SourceUpdate update;
        try (DirectoryConfigSource source = new DirectoryConfigSource(configDir, meshNamespace)) {
            update = source.readOnce();
        }
        // The same problems translate reports; the verdict is still given, on what was read cleanly.
        update.problems().forEach(p -> spec.commandLine().getErr().println("problem: " + p));
        EgressTranslator translator = new EgressTranslator();
        var model = translator.model(translator.validate(update.snapshot()), identity);
        return ExplanationReport.toJson(new EgressExplainer().explain(model, request));
    }

    /** @return the server's answer, or null after printing why there is none */
    private JsonNode live(ServiceAccountRef identity) throws IOException, InterruptedException {
        StringBuilder query = new StringBuilder("from=").append(encode(identity.toString()));
        query.append("&target=").append(encode(target));
        if (method != null) {
            query.append("&method=").append(encode(method));
        }
        for (String header : headers) {
            query.append("&header=").append(encode(header));
        }
        if (sni != null) {
            query.append("&sni=").append(encode(sni));
        }
        if (ip != null) {
            query.append("&ip=").append(encode(ip));
        }
        String base = server.toString().replaceAll("/+$", "");
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/debug/explain?" + query))
                .timeout(Duration.ofSeconds(10));
        if (tokenFile != null) {
            request.header(
                    "Authorization", "Bearer " + Files.readString(tokenFile).strip());
        }
        HttpResponse<String> response;
        try (HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IOException(base + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()), e);
        }
        if (response.statusCode() == 400) {
            spec.commandLine().getErr().println("error: " + response.body().strip());
            return null;
        }
        if (response.statusCode() != 200) {
            spec.commandLine()
                    .getErr()
                    .println("error: " + base + "/debug/explain answered " + response.statusCode()
                            + (response.statusCode() == 401 ? " (give the bearer token with --token-file)" : "")
                            + ": " + response.body().strip());
            return null;
        }
        return JSON.readTree(response.body());
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    private int usage(String message) {
        spec.commandLine().getErr().println("error: " + message);
        return 2;
    }
}
