package io.portcullis.kubernetes.testing;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Kubernetes API server for tests: etcd and kube-apiserver as plain processes, listening on
 * 127.0.0.1 only, on free ports, with their data in a temporary directory that {@link #close()} deletes.
 *
 * <p>It is the real thing, not a mock, because the parts that break in production are the API server's
 * own: OpenAPI schemas and strict decoding, admission webhooks it calls, watches that expire (410), RBAC.
 * What it is not: a cluster. There is no scheduler, kubelet or controller-manager, so Pods are stored but
 * never run, and no controller creates the {@code default} ServiceAccount of a namespace: create the
 * ServiceAccount before a Pod that names it (the ServiceAccount admission plugin refuses the Pod otherwise).
 *
 * <p>Set-up: a throwaway CA signs the server certificate (SAN 127.0.0.1, localhost) and an admin client
 * certificate in group {@code system:masters}; a service-account key pair makes TokenRequest and
 * TokenReview work; RBAC authorizes everyone but the admin. Binaries come from
 * {@code PORTCULLIS_KUBE_BIN} (system property {@code portcullis.kubeBin}, environment, or
 * /usr/local/lib/portcullis/env written by scripts/install-deps); missing binaries fail the test.
 */
public final class KubeApiServer implements AutoCloseable {

    private static final Path ENV_FILE = Path.of("/usr/local/lib/portcullis/env");
    // Generous: seen at 4-7 s on a quiet machine, once over 90 s in a CI run with two cores fully loaded.
    private static final Duration READY_WITHIN = Duration.ofMinutes(4);

    private final Path bin;
    private final Path dir;
    private final List<String> extraApiServerFlags;
    private final int etcdClientPort;
    private final int etcdPeerPort;
    private final int apiServerPort;
    private final Path kubeconfig;
    private Process etcd;
    private Process apiServer;
    private KubernetesClient client;
    private volatile String lastReadyz = "(none)";
    private final Thread reaper;

    private KubeApiServer(Path bin, Path dir, List<String> extraApiServerFlags) throws IOException {
        this.bin = bin;
        this.dir = dir;
        this.extraApiServerFlags = List.copyOf(extraApiServerFlags);
        this.etcdClientPort = freePort();
        this.etcdPeerPort = freePort();
        this.apiServerPort = freePort();
        this.kubeconfig = dir.resolve("kubeconfig");
        // A test that dies without close() must not leave servers behind for the next run.
        this.reaper = new Thread(this::stopProcesses, "kube-api-server-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    /** Starts etcd and the API server and waits until {@code /readyz} is ok. */
    public static KubeApiServer start() {
        return start(List.of());
    }

    /**
     * As {@link #start()}, with extra kube-apiserver flags, e.g. {@code --watch-cache=false} so watches
     * are served from etcd and {@link #compactEtcd()} makes old resourceVersions expire (410) at once.
     */
    public static KubeApiServer start(List<String> extraApiServerFlags) {
        KubeApiServer server = null;
        try {
            server = new KubeApiServer(
                    kubeBin(), Files.createTempDirectory("portcullis-kube-api-"), extraApiServerFlags);
            server.writeCertificates();
            server.writeKubeconfig();
            server.startEtcd();
            server.startApiServer();
            return server;
        } catch (IOException e) {
            if (server != null) {
                server.close();
            }
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            if (server != null) {
                server.close();
            }
            throw e;
        }
    }

    /** The directory holding kube-apiserver, kubectl and etcd. */
    public static Path kubeBin() {
        String configured = System.getProperty("portcullis.kubeBin", System.getenv("PORTCULLIS_KUBE_BIN"));
        if (configured == null && Files.isRegularFile(ENV_FILE)) {
            try {
                for (String line : Files.readAllLines(ENV_FILE)) {
                    if (line.startsWith("PORTCULLIS_KUBE_BIN=")) {
                        configured = line.substring("PORTCULLIS_KUBE_BIN=".length());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (configured == null) {
            throw new IllegalStateException("no kube-apiserver binaries: PORTCULLIS_KUBE_BIN is not set and " + ENV_FILE
                    + " does not name them; run scripts/install-deps (it builds them once)");
        }
        Path dir = Path.of(configured);
        for (String b : List.of("etcd", "kube-apiserver", "kubectl")) {
            if (!Files.isExecutable(dir.resolve(b))) {
                throw new IllegalStateException(dir.resolve(b) + " is missing; run scripts/install-deps");
            }
        }
        return dir;
    }

    public Path kubeconfig() {
        return kubeconfig;
    }

    /** https://127.0.0.1:port */
    public String url() {
        return "https://127.0.0.1:" + apiServerPort;
    }

    public Path kubectlBinary() {
        return bin.resolve("kubectl");
    }

    /** A fabric8 client authenticated as the admin (group system:masters); closed by {@link #close()}. */
    public synchronized KubernetesClient client() {
        if (client == null) {
            client = newClient();
        }
        return client;
    }

    /** A new admin client the caller owns (and closes). */
    public KubernetesClient newClient() {
        try {
            Config config = Config.fromKubeconfig(Files.readString(kubeconfig));
            return new KubernetesClientBuilder().withConfig(config).build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the built kubectl against this server as the admin. */
    public KubectlResult kubectl(String... args) {
        return kubectlWithStdin(null, args);
    }

    /** Runs kubectl with {@code stdin} as its standard input (e.g. {@code apply -f -}). */
    public KubectlResult kubectlWithStdin(String stdin, String... args) {
        List<String> command = new ArrayList<>();
        command.add(kubectlBinary().toString());
        command.add("--kubeconfig=" + kubeconfig);
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile(dir, "kubectl-", ".out");
            Path err = Files.createTempFile(dir, "kubectl-", ".err");
            ProcessBuilder builder =
                    new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            builder.environment().put("KUBECONFIG", kubeconfig.toString());
            Process process = builder.start();
            if (stdin != null) {
                process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            process.getOutputStream().close();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("kubectl did not finish within 120 s: " + command);
            }
            KubectlResult result = new KubectlResult(process.exitValue(), Files.readString(out), Files.readString(err));
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Applies every CRD in deploy/crds (server-side) and waits until each is Established. */
    public void installCrds() {
        Path crds = deployDirectory().resolve("crds");
        kubectl("apply", "--server-side", "--force-conflicts", "-f", crds.toString())
                .orThrow();
        kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
                .orThrow();
    }

    /**
     * The repository's deploy/ directory: system property {@code portcullis.deploy}, else found by walking
     * up from the working directory (Maven runs tests in the module directory).
     */
    public static Path deployDirectory() {
        String configured = System.getProperty("portcullis.deploy");
        if (configured != null) {
            return Path.of(configured);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("deploy/crds"))) {
                return p.resolve("deploy");
            }
        }
        throw new IllegalStateException(
                "deploy/crds not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * Kills the API server (no graceful shutdown: watches break as when it crashes) and starts it again on
     * the same port with the same etcd, waiting for {@code /readyz}.
     */
    public void restartApiServer() {
        stop(apiServer);
        try {
            startApiServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Compacts etcd at its current revision: every older resourceVersion is gone, so a watch or list
     * from one gets 410 Gone (write something after the last version you mean to expire: a watch from
     * exactly the compaction revision is still valid) (served from etcd; the API server's watch cache keeps its own window unless
     * started with {@code --watch-cache=false}).
     *
     * @return the revision compacted at
     */
    public long compactEtcd() {
        String etcd = "http://127.0.0.1:" + etcdClientPort;
        String key = Base64.getEncoder().encodeToString("/".getBytes(StandardCharsets.UTF_8));
        String range = post(etcd + "/v3/kv/range", "{\"key\":\"" + key + "\",\"limit\":1,\"keys_only\":true}");
        Matcher m = Pattern.compile("\"revision\":\"(\\d+)\"").matcher(range);
        if (!m.find()) {
            throw new IllegalStateException("no revision in etcd's answer: " + range);
        }
        long revision = Long.parseLong(m.group(1));
        post(etcd + "/v3/kv/compaction", "{\"revision\":\"" + revision + "\",\"physical\":true}");
        return revision;
    }

    /** The API server's log so far (for a failing test's message). */
    public String apiServerLog() {
        try {
            return Files.readString(dir.resolve("kube-apiserver.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.close();
            client = null;
        }
        stopProcesses();
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run: nothing to remove
        }
        deleteRecursively(dir);
    }

    // ------------------------------------------------------------------ processes

    private void startEtcd() throws IOException {
        String client = "http://127.0.0.1:" + etcdClientPort;
        String peer = "http://127.0.0.1:" + etcdPeerPort;
        etcd = new ProcessBuilder(
                        bin.resolve("etcd").toString(),
                        "--name=default",
                        "--data-dir=" + dir.resolve("etcd-data"),
                        "--listen-client-urls=" + client,
                        "--advertise-client-urls=" + client,
                        "--listen-peer-urls=" + peer,
                        "--initial-advertise-peer-urls=" + peer,
                        "--initial-cluster=default=" + peer,
                        "--log-level=warn")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("etcd.log").toFile())
                .start();
        awaitReady("etcd", etcd, dir.resolve("etcd.log"), () -> {
            try {
                return get(client + "/health").contains("\"health\":\"true\"");
            } catch (RuntimeException notYet) {
                return false;
            }
        });
    }

    private void startApiServer() throws IOException {
        List<String> command = new ArrayList<>(List.of(
                bin.resolve("kube-apiserver").toString(),
                "--etcd-servers=http://127.0.0.1:" + etcdClientPort,
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--secure-port=" + apiServerPort,
                "--cert-dir=" + dir.resolve("apiserver-certs"),
                "--tls-cert-file=" + dir.resolve("server.crt"),
                "--tls-private-key-file=" + dir.resolve("server.key"),
                "--client-ca-file=" + dir.resolve("ca.crt"),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file=" + dir.resolve("sa.pub"),
                "--service-account-signing-key-file=" + dir.resolve("sa.key"),
                "--api-audiences=https://kubernetes.default.svc.cluster.local",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--authorization-mode=RBAC",
                // The default reconciler keeps rewriting the kubernetes Service's endpoints to the
                // advertise address and logs errors for a loopback one.
                "--endpoint-reconciler-type=none",
                "--profiling=false"));
        command.addAll(extraApiServerFlags);
        apiServer = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        dir.resolve("kube-apiserver.log").toFile()))
                .start();
        awaitReady("kube-apiserver", apiServer, dir.resolve("kube-apiserver.log"), () -> {
            KubectlResult readyz = kubectl("get", "--raw=/readyz?verbose");
            lastReadyz = readyz.stdout() + readyz.stderr();
            return readyz.succeeded();
        });
    }

    private interface Probe {
        boolean ready();
    }

    private void awaitReady(String name, Process process, Path log, Probe probe) {
        Instant deadline = Instant.now().plus(READY_WITHIN);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + ":\n" + tail(log));
            }
            if (probe.ready()) {
                return;
            }
            try {
                Thread.sleep(100); // polling interval, not a wait for an effect
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException(name + " not ready within " + READY_WITHIN + ":\n" + tail(log)
                + "\nlast /readyz answer:\n" + lastReadyz);
    }

    private synchronized void stopProcesses() {
        stop(apiServer);
        stop(etcd);
    }

    private static void stop(Process process) {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ certificates and kubeconfig

    private void writeCertificates() throws IOException {
        openssl(
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=portcullis-test-kube-ca",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt");
        Files.writeString(dir.resolve("server.ext"), """
                subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc
                extendedKeyUsage=serverAuth
                """);
        issue("server", "/CN=kube-apiserver", "server.ext");
        Files.writeString(dir.resolve("admin.ext"), "extendedKeyUsage=clientAuth\n");
        issue("admin", "/O=system:masters/CN=portcullis-test-admin", "admin.ext");
        openssl("genrsa", "-out", "sa.key", "2048");
        openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub");
    }

    private void issue(String name, String subject, String extensions) {
        openssl(
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                subject,
                "-keyout",
                name + ".key",
                "-out",
                name + ".csr");
        openssl(
                "x509",
                "-req",
                "-in",
                name + ".csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                extensions,
                "-out",
                name + ".crt");
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("openssl failed: " + command + "\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("openssl not runnable (scripts/install-deps installs it)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void writeKubeconfig() throws IOException {
        Map<String, String> data = Map.of(
                "CA", base64(dir.resolve("ca.crt")),
                "CERT", base64(dir.resolve("admin.crt")),
                "KEY", base64(dir.resolve("admin.key")),
                "URL", url());
        String yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: portcullis-test
                  cluster:
                    server: ${URL}
                    certificate-authority-data: ${CA}
                users:
                - name: admin
                  user:
                    client-certificate-data: ${CERT}
                    client-key-data: ${KEY}
                contexts:
                - name: portcullis-test
                  context:
                    cluster: portcullis-test
                    user: admin
                    namespace: default
                current-context: portcullis-test
                """;
        // Placeholders are ${NAME}: '$' and braces never occur in base64, so one value can never be
        // mistaken for another's placeholder (a bare CA did occur inside a certificate's base64 and
        // corrupted the kubeconfig, depending on Map.of's iteration order).
        for (Map.Entry<String, String> e : data.entrySet()) {
            yaml = yaml.replace("${" + e.getKey() + "}", e.getValue());
        }
        Files.writeString(kubeconfig, yaml);
    }

    private static String base64(Path file) throws IOException {
        return Base64.getEncoder().encodeToString(Files.readAllBytes(file));
    }

    // ------------------------------------------------------------------ small utilities

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    private static String post(String url, String json) {
        return send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private static String send(HttpRequest.Builder request) {
        try (HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            HttpResponse<String> response =
                    http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException(
                        response.uri() + " answered " + response.statusCode() + ": " + response.body());
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
