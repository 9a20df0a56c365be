package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** {@code portcullis serve} (xDS over mutual TLS, CA in {@link PortcullisCli#caDir()}) as a child process, and a client for its debug endpoint. */
final class ControlPlaneProcess implements AutoCloseable {

    static final int XDS_PORT = 15010;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final int debugPort;
    final int xdsPort;
    final Path log;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    ControlPlaneProcess(PortcullisCli cli, Path log) throws IOException {
        this(cli, log, XDS_PORT);
    }

    /** @param xdsPort on {@link NetworkLab#HOST_ADDRESS}; several control planes on one host need one each */
    ControlPlaneProcess(PortcullisCli cli, Path log, int xdsPort) throws IOException {
        this(cli, log, xdsPort, List.of("--config-dir", cli.configDir().toString()));
    }

    /** On the lab's config directory, with more {@code serve} flags (e.g. {@code --replica-name}). */
    static ControlPlaneProcess withArgs(PortcullisCli cli, Path log, List<String> extraArgs) throws IOException {
        List<String> args = new java.util.ArrayList<>(
                List.of("--config-dir", cli.configDir().toString()));
        args.addAll(extraArgs);
        return new ControlPlaneProcess(cli, log, XDS_PORT, args);
    }

    /** {@code portcullis serve --kubeconfig FILE}: the control plane on a Kubernetes API server. */
    static ControlPlaneProcess onKubernetes(PortcullisCli cli, Path log, Path kubeconfig) throws IOException {
        return onKubernetes(cli, log, kubeconfig, List.of());
    }

    /** As {@link #onKubernetes(PortcullisCli, Path, Path)}, with more {@code serve} flags (webhooks, injector). */
    static ControlPlaneProcess onKubernetes(PortcullisCli cli, Path log, Path kubeconfig, List<String> extraArgs)
            throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("--kubeconfig", kubeconfig.toString()));
        args.addAll(extraArgs);
        return new ControlPlaneProcess(cli, log, XDS_PORT, args);
    }

    /** @param sourceArgs where it reads its config: {@code --config-dir DIR} or {@code --kubeconfig FILE} */
    private ControlPlaneProcess(PortcullisCli cli, Path log, int xdsPort, List<String> sourceArgs) throws IOException {
        this.log = log;
        this.xdsPort = xdsPort;
        this.debugPort = freePort();
        List<String> command = new java.util.ArrayList<>(cli.command("serve"));
        command.addAll(sourceArgs);
        command.addAll(List.of(
                "--xds-address",
                NetworkLab.HOST_ADDRESS,
                "--xds-port",
                String.valueOf(xdsPort),
                // Sidecars authenticate with certificates from this CA; the server certificate names the xDS address.
                "--ca-dir",
                cli.caDir().toString(),
                "--debug-address",
                "127.0.0.1",
                "--debug-port",
                String.valueOf(debugPort)));
        this.process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /** Where sidecars reach it, as {@code portcullis bootstrap --xds-host} takes it. */
    String xdsEndpoint() {
        return NetworkLab.HOST_ADDRESS + ":" + xdsPort;
    }

    /** Waits (polling, generous deadline) until /healthz answers; fails at once, with the log, if the process exits. */
    ControlPlaneProcess awaitHealthy() {
        await("control plane healthy (" + log.getFileName() + ")")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    assertThat(alive())
                            .as("control plane exited:%n%s", logText())
                            .isTrue();
                    return healthy();
                });
        return this;
    }

    boolean healthy() {
        try {
            return get("/healthz").equals("ok\n");
        } catch (IOException e) {
            return false;
        }
    }

    JsonNode sidecars() throws IOException {
        return JSON.readTree(get("/debug/sidecars"));
    }

    JsonNode problems() throws IOException {
        return JSON.readTree(get("/debug/problems"));
    }

    /** Denials and would-be denials the sidecars reported over the access log, newest first. */
    JsonNode refusals() throws IOException {
        return JSON.readTree(get("/debug/decisions?refused=true"));
    }

    JsonNode xds(String identity) throws IOException {
        return JSON.readTree(get("/debug/xds/" + identity));
    }

    /** The debug endpoint's base URL, as {@code portcullis explain --server}, {@code proxy-status --server} and a browser take it. */
    String debugUrl() {
        return "http://127.0.0.1:" + debugPort;
    }

    String get(String path) throws IOException {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(debugUrl() + path))
                            // Generous: with both cores busy a JVM can stall for seconds, and a
                            // timeout here would end a poll that is allowed to take minutes.
                            .timeout(Duration.ofSeconds(30))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    String logText() {
        return ProcessRun.readLog(log);
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hook, no goodbye to the sidecars; their kernel sees the connections reset. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            throw new AssertionError("control plane did not die of SIGKILL within 30 s");
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        ProcessRun.stop(process);
    }
}
