package io.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcullis.xds.SidecarSync;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "proxy-status",
        mixinStandardHelpOptions = true,
        description = {
            "List every sidecar connected to the control plane replicas given with --server: identity, pod, replica,"
                    + " sync state, the versions sent and ACKed per xDS type, last seen, and why it is not in sync.",
            "",
            "Sync states: SYNCED runs the version its identity is served; PENDING was sent a newer version less than"
                    + " --stale-after ago; STALE has not been on the served version for longer than --stale-after;"
                    + " NACKED its Envoy rejected the last version it was sent.",
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:every sidecar listed is SYNCED or PENDING (none connected included)",
            "1:at least one sidecar is STALE or NACKED",
            "2:invalid command line",
            "3:a --server could not be read (unreachable, refused, not Portcullis); its sidecars are missing"
                    + " from the list. Wins over 1"
        })
final class ProxyStatusCommand implements Callable<Integer> {

    static final int EXIT_SYNCED = 0;
    static final int EXIT_NEEDS_ATTENTION = 1;
    static final int EXIT_SERVER_UNREADABLE = 3;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final List<String> TYPES = List.of("Listener", "Cluster", "RouteConfiguration");

    @Option(
            names = "--server",
            description = "Debug endpoint of a control plane replica, e.g. http://10.0.0.5:15080; repeatable, the"
                    + " replicas' sidecars are listed together (default: http://127.0.0.1:15080).")
    List<URI> servers = new ArrayList<>();

    @Option(
            names = "--token-file",
            description = "File holding the bearer token the debug endpoints require (serve --debug-token-file).")
    Path tokenFile;

    @Option(
            names = "--stale-after",
            defaultValue = "30s",
            converter = DurationConverter.class,
            description = "How long a sidecar may be off the served version before it counts as STALE (default:"
                    + " ${DEFAULT-VALUE}).")
    Duration staleAfter;

    @Option(
            names = {"-o", "--output"},
            defaultValue = "table",
            description = "table or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** What one replica answered: its sidecars, or why it could not be read. */
    record ServerAnswer(URI server, ArrayNode sidecars, String error) {}

    @Override
    public Integer call() throws Exception {
        if (staleAfter.isNegative() || staleAfter.isZero()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--stale-after must be positive");
        }
        if (!output.equals("table") && !output.equals("json")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "-o " + output + ": expected table or json");
        }
        Optional<String> token = token();
        List<URI> targets = servers.isEmpty() ? List.of(URI.create("http://127.0.0.1:15080")) : servers;
        HttpClient http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        List<ServerAnswer> answers = new ArrayList<>();
        for (URI server : targets) {
            answers.add(read(http, server, token));
        }
        List<ObjectNode> sidecars = new ArrayList<>();
        for (ServerAnswer answer : answers) {
            if (answer.sidecars() != null) {
                for (JsonNode sidecar : answer.sidecars()) {
                    ObjectNode entry = ((ObjectNode) sidecar).deepCopy();
                    entry.put("server", answer.server().toString());
                    sidecars.add(entry);
                }
            }
        }
        sidecars.sort(Comparator.comparing((ObjectNode s) -> s.path("identity").asText())
                .thenComparing(s -> s.path("pod").asText())
                .thenComparing(s -> s.path("replica").asText()));
        long needAttention = sidecars.stream()
                .filter(s -> state(s).map(SidecarSync.State::needsAttention).orElse(true))
                .count();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (output.equals("json")) {
            out.println(JSON.writeValueAsString(json(answers, sidecars, needAttention)));
        } else {
            table(out, sidecars);
        }
        for (ServerAnswer answer : answers) {
            if (answer.error() != null) {
                err.println("error: " + answer.server() + ": " + answer.error());
            }
        }
        out.flush();
        err.flush();
        if (answers.stream().anyMatch(a -> a.error() != null)) {
            return EXIT_SERVER_UNREADABLE;
        }
        return needAttention > 0 ? EXIT_NEEDS_ATTENTION : EXIT_SYNCED;
    }

    private Optional<String> token() {
        if (tokenFile == null) {
            return Optional.empty();
        }
        String text;
        try {
            text = Files.readString(tokenFile).strip();
        } catch (IOException e) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--token-file " + tokenFile + ": " + CommandFailure.describe(e));
        }
        if (text.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--token-file " + tokenFile + " is empty");
        }
        return Optional.of(text);
    }

    /** {@code GET <server>/debug/sidecars?staleAfter=...}: the replica assesses sync state on its own clock. */
    private ServerAnswer read(HttpClient http, URI server, Optional<String> token) {
        String base = server.toString().replaceAll("/+$", "");
        URI uri;
        try {
            uri = URI.create(base + "/debug/sidecars?staleAfter=" + staleAfter);
        } catch (IllegalArgumentException e) {
            return new ServerAnswer(server, null, "not a URL: " + e.getMessage());
        }
        if (uri.getScheme() == null || !List.of("http", "https").contains(uri.getScheme())) {
            return new ServerAnswer(server, null, "not an http:// or https:// URL");
        }
        HttpRequest.Builder request =
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).header("Accept", "application/json");
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new ServerAnswer(
                    server, null, "cannot read /debug/sidecars: " + (e.getMessage() != null ? e.getMessage() : e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ServerAnswer(server, null, "interrupted");
        }
        if (response.statusCode() == 401) {
            return new ServerAnswer(
                    server, null, "401 Unauthorized: pass the debug endpoint's token with --token-file");
        }
        if (response.statusCode() != 200) {
            return new ServerAnswer(server, null, "HTTP " + response.statusCode() + ": " + firstLine(response.body()));
        }
        try {
            JsonNode body = JSON.readTree(response.body());
            if (!(body instanceof ArrayNode list)) {
                return new ServerAnswer(server, null, "/debug/sidecars did not answer a JSON list");
            }
            return new ServerAnswer(server, list, null);
        } catch (IOException e) {
            return new ServerAnswer(server, null, "/debug/sidecars did not answer JSON: " + firstLine(response.body()));
        }
    }

    private static Optional<SidecarSync.State> state(JsonNode sidecar) {
        try {
            return Optional.of(
                    SidecarSync.State.valueOf(sidecar.path("syncState").asText()));
        } catch (IllegalArgumentException e) {
            // A replica too old to assess sync state: counted as needing attention, never as fine.
            return Optional.empty();
        }
    }

    private ObjectNode json(List<ServerAnswer> answers, List<ObjectNode> sidecars, long needAttention) {
        ObjectNode root = JSON.createObjectNode();
        root.put("staleAfter", staleAfter.toString());
        ArrayNode serverList = root.putArray("servers");
        for (ServerAnswer answer : answers) {
            ObjectNode s = serverList.addObject().put("server", answer.server().toString());
            if (answer.error() != null) {
                s.put("error", answer.error());
            } else {
                s.put("sidecars", answer.sidecars().size());
            }
        }
        root.put("needAttention", needAttention);
        sidecars.forEach(root.putArray("sidecars")::add);
        return root;
    }

    private static void table(PrintWriter out, List<ObjectNode> sidecars) {
        if (sidecars.isEmpty()) {
            out.println("no sidecar connected");
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {
            "IDENTITY",
            "POD",
            "REPLICA",
            "STATE",
            "LDS SENT/ACKED",
            "CDS SENT/ACKED",
            "RDS SENT/ACKED",
            "LAST SEEN",
            "DETAIL"
        });
        for (JsonNode s : sidecars) {
            String[] row = new String[9];
            row[0] = s.path("identity").asText();
            row[1] = s.path("pod").asText();
            row[2] = s.path("replica").asText();
            row[3] = state(s).map(Enum::name).orElse("UNKNOWN");
            for (int i = 0; i < TYPES.size(); i++) {
                JsonNode t = s.path("types").path(TYPES.get(i));
                row[4 + i] =
                        t.isMissingNode() ? "-" : shortVersion(t.path("sent")) + "/" + shortVersion(t.path("acked"));
            }
            row[7] = toSeconds(s.path("lastSeen").asText("-"));
            row[8] = row[3].equals("SYNCED") ? "" : s.path("syncDetail").asText();
            rows.add(row);
        }
        int[] widths = new int[9];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(
                        i == row.length - 1 ? row[i] : String.format(Locale.ROOT, "%-" + widths[i] + "s  ", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    /** Versions are content digests; eight characters tell them apart in a table ({@code -o json} has them whole). */
    private static String shortVersion(JsonNode version) {
        if (version == null || version.isNull() || version.isMissingNode()) {
            return "-";
        }
        String text = version.asText();
        return text.length() > 8 ? text.substring(0, 8) : text;
    }

    private static String toSeconds(String instant) {
        try {
            return java.time.Instant.parse(instant)
                    .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                    .toString();
        } catch (java.time.format.DateTimeParseException e) {
            return instant;
        }
    }

    private static String firstLine(String body) {
        String line = body.strip().lines().findFirst().orElse("(empty)");
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }
}
