package io.portcullis.cli;

import io.portcullis.bootstrap.SidecarNodeId;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The workloads {@code scripts/install-cli} runs, under {@code -XX:AOTCacheOutput} (JDK 25+) or {@code
 * -XX:ArchiveClassesAtExit} (AppCDS, JDK 21-24), to build the four start-up caches the {@code portcullis} launcher
 * uses: {@code store} for {@code apply}, {@code patch} and {@code delete}, {@code serve} for {@code serve}, {@code
 * client} for {@code translate} and {@code explain} with {@code --server}, {@code commands} for every other command.
 * What a training loads and links is what every later run of those commands finds ready instead of reading it from
 * the jar.
 *
 * <p>Four caches, not one: a JDK 25 cache's classes are all loaded at every start, whether the command uses them
 * or not. One cache trained on both {@code serve} and the short commands held 9,000 classes (83 MB), and an {@code
 * apply} spent a third of its start loading the server's gRPC, Netty and xDS classes it never runs; the editing
 * commands need neither the translator nor Envoy's protobuf types either (31 MB against 60).
 *
 * <p>{@code client} is for {@code translate --server} and {@code explain --server}, which read no file and translate
 * nothing: they ask a control plane's debug endpoint; its training runs {@code translate --server} against a
 * stand-in with canned answers ({@link
 * DebugEndpointStandIn}), so that their cache holds the HTTP client and not the translator, protobuf and Envoy types
 * the offline commands load (a JDK 25 cache loads all its classes at every start).
 *
 * <p>{@code commands} runs the real commands (through {@link PortcullisCommand#commandLine(String...)}, as {@code
 * main} does) on manifests of its own in a temporary directory: each protocol and an HTTPRouteGroup, so the
 * parsing, validation and Envoy rendering paths are all taken; then a translation of a few hundred policies, whose
 * method profiles (kept by JDK 25's cache) let the JIT compile the hot translator code sooner. Their output is
 * discarded; a command that fails fails the training, so a broken install does not go unseen. {@code serve} runs
 * {@code serve} on those policies until one sidecar fetched its config ({@link ServeTraining}): a server starting
 * at 10,000 policies spent most of its start loading and compiling classes. The Kubernetes clients are not
 * trained: the caches would only grow.
 */
public final class CacheTrainingRun {

    /** Policies of the larger translation: enough for the JIT's profiles, a few seconds at most. */
    static final int POLICIES = 300;

    private static final String MESH_CONFIG = """
            apiVersion: config.flomesh.io/v1alpha3
            kind: MeshConfig
            metadata:
              name: fsm-mesh-config
              namespace: fsm-system
            spec:
              featureFlags:
                enableEgressPolicy: false
              traffic:
                enableEgress: false
            """;

    private static final String ROUTE_GROUP = """
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: HTTPRouteGroup
            metadata:
              name: httpbin-routes
              namespace: curl
            spec:
              matches:
              - name: get
                pathRegex: /get/[0-9]+
                methods:
                - GET
                headers:
                - accept: application/json
            """;

    private CacheTrainingRun() {}

    /** The commands the {@code store} cache is for: the ones that only edit the config directory. */
    private static final Set<String> STORE_COMMANDS = Set.of("apply", "patch", "delete");

    /** The cache this training run is for: {@code store}, {@code commands} or {@code serve}. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1 || !Set.of("store", "commands", "client", "serve").contains(args[0])) {
            System.err.println("usage: CacheTrainingRun store|commands|client|serve");
            System.exit(2);
        }
        boolean serve = args[0].equals("serve");
        boolean store = args[0].equals("store");
        boolean client = args[0].equals("client");
        Path directory = Files.createTempDirectory("portcullis-training-");
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        List<String> failures = new ArrayList<>();
        try (PrintStream discard = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8)) {
            // The commands print to System.out/err; a training run's output would only be noise.
            System.setOut(discard);
            System.setErr(discard);
            List<Step> steps = steps(directory); // serve's training serves the policies these write
            if (serve) {
                try {
                    ServeTraining.run(
                            directory.resolve("many"), new SidecarNodeId("team-3", "app-3", "app-3-training"));
                } catch (RuntimeException e) {
                    failures.add("portcullis serve: " + e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failures.add("portcullis serve: interrupted");
                }
            } else if (client) {
                try (DebugEndpointStandIn endpoint = DebugEndpointStandIn.start()) {
                    run(endpoint.steps(), failures);
                }
            } else if (store) {
                run(
                        steps.stream()
                                .filter(step ->
                                        STORE_COMMANDS.contains(step.args().get(0)))
                                .toList(),
                        failures);
            } else {
                run(steps, failures);
            }
            if (failures.isEmpty()) {
                // serve may still be running: the exit stops it (its shutdown hook) and writes the cache. Its last
                // log lines (the training sidecar leaving, the directory going) go to the discarded output.
                delete(directory);
                System.exit(0);
            }
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
            delete(directory);
        }
        failures.forEach(System.err::println);
        System.exit(1);
    }

    /** Runs each step as {@code main} would; a step that exits otherwise than it must is a failure. */
    private static void run(List<Step> steps, List<String> failures) {
        for (Step step : steps) {
            String[] command = step.args().toArray(String[]::new);
            int exit = PortcullisCommand.commandLine(command).execute(command);
            if (exit != step.exitCode()) {
                failures.add(
                        "portcullis " + String.join(" ", step.args()) + " exited " + exit + ", not " + step.exitCode());
            }
        }
    }

    /** One command of the training and the exit code it must give. */
    record Step(int exitCode, List<String> args) {

        static Step of(String... args) {
            return new Step(0, List.of(args));
        }
    }

    private static List<Step> steps(Path directory) throws IOException {
        Path store = Files.createDirectories(directory.resolve("store"));
        Path manifests = directory.resolve("manifests.yaml");
        Files.writeString(
                manifests,
                MESH_CONFIG + "---\n" + ROUTE_GROUP + "---\n" + egress("httpbin-80", "http", 80, "httpbin-routes")
                        + "---\n"
                        + egress("httpbin-443", "https", 443, null) + "---\n" + egress("postgres", "tcp", 5432, null)
                        + "---\n" + egress("ssh", "tcp-server-first", 22, null),
                StandardCharsets.UTF_8);
        Path many = Files.createDirectories(directory.resolve("many"));
        for (int p = 0; p < POLICIES; p++) {
            Files.writeString(
                    many.resolve("policy-" + p + ".yaml"),
                    egress("policy-" + p, p % 2 == 0 ? "http" : "https", 80 + p % 4, null)
                            .replace("namespace: curl", "namespace: team-" + p % 10)
                            .replace("name: curl", "name: app-" + p % 10)
                            .replace("httpbin.org", "host-" + p + ".example.com"),
                    StandardCharsets.UTF_8);
        }
        String dir = store.toString();
        return List.of(
                Step.of("--help"),
                Step.of("apply", "-f", manifests.toString(), "--config-dir", dir),
                Step.of("apply", "-f", manifests.toString(), "--config-dir", dir), // unchanged
                Step.of(
                        "patch",
                        "meshconfig",
                        "fsm-mesh-config",
                        "-n",
                        "fsm-system",
                        "--config-dir",
                        dir,
                        "-p",
                        "{\"spec\":{\"featureFlags\":{\"enableEgressPolicy\":true}}}",
                        "--type=merge"),
                Step.of("translate", "--config-dir", dir),
                Step.of("translate", "--config-dir", dir, "--identity", "curl/curl"),
                Step.of(
                        "explain",
                        "--from",
                        "curl/curl",
                        "http://httpbin.org/get/1",
                        "--header",
                        "accept=application/json",
                        "--config-dir",
                        dir),
                new Step(1, List.of("explain", "--from", "curl/curl", "http://httpbin.org/post", "--config-dir", dir)),
                Step.of("explain", "--from", "curl/curl", "https://httpbin.org/", "--config-dir", dir),
                Step.of("explain", "--from", "curl/curl", "10.0.0.7:5432", "--config-dir", dir),
                Step.of("delete", "egress", "ssh", "-n", "curl", "--config-dir", dir),
                Step.of("translate", "--config-dir", many.toString(), "--identity", "team-3/app-3"));
    }

    private static String egress(String name, String protocol, int port, String routeGroup) {
        String hosts = protocol.startsWith("tcp") ? "  ipAddresses:\n  - 10.0.0.0/24\n" : "  hosts:\n  - httpbin.org\n";
        String matches = routeGroup == null
                ? ""
                : "  matches:\n  - apiGroup: specs.smi-spec.io/v1alpha4\n    kind: HTTPRouteGroup\n    name: "
                        + routeGroup + "\n";
        return "kind: Egress\napiVersion: policy.flomesh.io/v1alpha1\nmetadata:\n  name: " + name
                + "\n  namespace: curl\nspec:\n  sources:\n  - kind: ServiceAccount\n    name: curl\n"
                + "    namespace: curl\n" + hosts + "  ports:\n  - number: " + port + "\n    protocol: " + protocol
                + "\n" + matches;
    }

    private static void delete(Path directory) throws IOException {
        try (Stream<Path> walk = Files.walk(directory)) {
            walk.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.delete(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
