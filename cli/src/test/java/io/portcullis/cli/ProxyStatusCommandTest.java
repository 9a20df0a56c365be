package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.debug.DebugAccess;
import io.portcullis.debug.DebugEndpoint;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.source.SourceUpdate;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.SidecarRegistry;
import io.portcullis.xds.XdsServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code portcullis proxy-status} against real control plane replicas (xDS server and debug endpoint in this
 * JVM) with ADS clients that ACK, NACK or stay silent the way an Envoy sidecar would.
 */
class ProxyStatusCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    /** One control plane replica: xDS (plaintext, loopback) and its debug endpoint. */
    private record Replica(XdsServer xds, DebugEndpoint debug) {
        String url() {
            return "http://127.0.0.1:" + debug.address().getPort();
        }
    }

    private Replica replica(String name, DebugAccess access) throws Exception {
        EgressControlPlane controlPlane = new EgressControlPlane();
        controlPlane.apply(new SourceUpdate(ResourceSnapshot.EMPTY, List.of()));
        SidecarRegistry registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
        XdsServer xds = new XdsServer(new InetSocketAddress("127.0.0.1", 0), controlPlane, registry).start();
        open.add(xds);
        DebugEndpoint debug = new DebugEndpoint(
                new InetSocketAddress(access.authenticates() ? "0.0.0.0" : "127.0.0.1", 0),
                controlPlane,
                registry,
                name,
                access);
        debug.start();
        open.add(debug);
        return new Replica(xds, debug);
    }

    private Replica replica(String name) throws Exception {
        return replica(name, DebugAccess.loopbackOnly());
    }

    /** An ADS stream as Envoy opens it: listeners and clusters for a node id. */
    private final class Sidecar {
        final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        final StreamObserver<DiscoveryRequest> requests;
        final Node node;

        Sidecar(Replica replica, String nodeId) {
            ManagedChannel channel = NettyChannelBuilder.forAddress(
                            "127.0.0.1", replica.xds().port())
                    .usePlaintext()
                    .build();
            open.add(channel::shutdownNow);
            node = SidecarBootstrap.node(SidecarNodeId.parse(nodeId));
            requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .streamAggregatedResources(new StreamObserver<>() {
                        @Override
                        public void onNext(DiscoveryResponse response) {
                            responses.add(response);
                        }

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                    });
            for (String type : List.of(Resources.V3.LISTENER_TYPE_URL, Resources.V3.CLUSTER_TYPE_URL)) {
                requests.onNext(DiscoveryRequest.newBuilder()
                        .setNode(node)
                        .setTypeUrl(type)
                        .build());
            }
        }

        /** ACKs the listeners and clusters it is sent. */
        Sidecar acking() throws InterruptedException {
            for (int i = 0; i < 2; i++) {
                DiscoveryResponse response = responses.poll(10, TimeUnit.SECONDS);
                assertThat(response).as("config sent").isNotNull();
                requests.onNext(answer(response).build());
            }
            return this;
        }

        /** Rejects every listener version it is sent, as an Envoy that cannot load them; ACKs clusters. */
        Sidecar rejectingListeners() throws InterruptedException {
            // The first config may take a while (it is built on a translation thread, maybe on a busy machine);
            // after it, 2 s of silence means the control plane has nothing more to send.
            DiscoveryResponse response = responses.poll(10, TimeUnit.SECONDS);
            assertThat(response).as("config sent").isNotNull();
            for (; response != null; response = responses.poll(2, TimeUnit.SECONDS)) {
                DiscoveryRequest.Builder reply = answer(response);
                if (response.getTypeUrl().equals(Resources.V3.LISTENER_TYPE_URL)) {
                    reply.setErrorDetail(com.google.rpc.Status.newBuilder()
                            .setCode(3)
                            .setMessage("Error adding/updating listener(s) outbound: duplicate matcher"));
                }
                requests.onNext(reply.build());
            }
            return this;
        }

        private DiscoveryRequest.Builder answer(DiscoveryResponse response) {
            return DiscoveryRequest.newBuilder()
                    .setNode(node)
                    .setTypeUrl(response.getTypeUrl())
                    .setVersionInfo(response.getVersionInfo())
                    .setResponseNonce(response.getNonce());
        }
    }

    record Run(int exitCode, String stdout, String stderr) {}

    private static Run proxyStatus(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli =
                PortcullisCommand.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        List<String> command = new ArrayList<>(List.of("proxy-status"));
        command.addAll(List.of(args));
        int code = cli.execute(command.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void sidecarsOfTwoReplicasAreListedTogetherWithPodReplicaAndSyncedAndItExitsZero() throws Exception {
        Replica a = replica("portcullis-a");
        Replica b = replica("portcullis-b");
        new Sidecar(a, "sidecar~curl~curl~curl-1").acking();
        new Sidecar(b, "sidecar~curl~sleep~sleep-7").acking();

        Run run = await().atMost(Duration.ofSeconds(20))
                .until(() -> proxyStatus("--server", a.url(), "--server", b.url() + "/"), r -> r.exitCode() == 0);

        System.out.print(run.stdout());
        List<String> lines = run.stdout().lines().toList();
        assertThat(lines.get(0)).startsWith("IDENTITY").contains("POD", "REPLICA", "STATE", "LAST SEEN");
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1).split("\\s+")).startsWith("curl/curl", "curl-1", "portcullis-a", "SYNCED");
        assertThat(lines.get(2).split("\\s+")).startsWith("curl/sleep", "sleep-7", "portcullis-b", "SYNCED");
        assertThat(run.stderr()).isEmpty();
    }

    @Test
    void aSidecarWhoseEnvoyRejectsItsListenersIsNackedWithEnvoysMessageAndItExitsOne() throws Exception {
        Replica a = replica("portcullis-a");
        new Sidecar(a, "sidecar~curl~curl~curl-1").rejectingListeners();

        Run run = proxyStatus("--server", a.url(), "-o", "json");

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ProxyStatusCommand.EXIT_NEEDS_ATTENTION);
        JsonNode sidecar = JSON.readTree(run.stdout()).get("sidecars").get(0);
        assertThat(sidecar.get("syncState").asText()).isEqualTo("NACKED");
        assertThat(sidecar.get("syncDetail").asText())
                .startsWith("Envoy rejected Listener version ")
                .endsWith("duplicate matcher");
        assertThat(sidecar.get("server").asText()).isEqualTo(a.url());
        assertThat(JSON.readTree(run.stdout()).get("needAttention").asInt()).isEqualTo(1);
    }

    @Test
    void aSidecarThatNeverAcksBecomesStaleAfterStaleAfterAndItExitsOne() throws Exception {
        Replica a = replica("portcullis-a");
        Sidecar silent = new Sidecar(a, "sidecar~curl~curl~curl-1");
        assertThat(silent.responses.poll(10, TimeUnit.SECONDS))
                .as("config sent")
                .isNotNull();

        assertThat(proxyStatus("--server", a.url(), "--stale-after", "1h").stdout())
                .contains("PENDING");
        Run run = await().atMost(Duration.ofSeconds(20))
                .until(() -> proxyStatus("--server", a.url(), "--stale-after", "1s"), r -> r.exitCode() == 1);

        System.out.print(run.stdout());
        assertThat(run.stdout()).contains("STALE").contains("not ACKed (stale after 1 s)");
    }

    @Test
    void anUnreachableReplicaIsNamedOnStderrAndExitsThreeWhileTheOthersAreStillListed() throws Exception {
        Replica a = replica("portcullis-a");
        new Sidecar(a, "sidecar~curl~curl~curl-1").acking();
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String gone = "http://127.0.0.1:" + closedPort;
        await().atMost(Duration.ofSeconds(20))
                .until(() -> proxyStatus("--server", a.url()).exitCode() == 0);

        Run run = proxyStatus("--server", gone, "--server", a.url());

        assertThat(run.exitCode()).isEqualTo(ProxyStatusCommand.EXIT_SERVER_UNREADABLE);
        assertThat(run.stdout()).contains("curl/curl").contains("SYNCED");
        assertThat(run.stderr()).startsWith("error: " + gone + ": cannot read /debug/sidecars");
    }

    @Test
    void aReplicaRequiringATokenIsReadWithTokenFileAndRefusedWithout() throws Exception {
        Replica a = replica("portcullis-a", new DebugAccess(Optional.of("s3cret"), Optional.empty(), Set.of()));
        Path token = Files.writeString(tmp.resolve("token"), "s3cret\n");

        Run without = proxyStatus("--server", a.url());
        Run with = proxyStatus("--server", a.url(), "--token-file", token.toString());

        assertThat(without.exitCode()).isEqualTo(3);
        assertThat(without.stderr()).contains("401 Unauthorized: pass the debug endpoint's token with --token-file");
        assertThat(with.exitCode()).as(with.toString()).isZero();
        assertThat(with.stdout()).isEqualTo("no sidecar connected\n");
    }

    @Test
    void aMissingTokenFileIsACommandLineError() {
        Run run = proxyStatus("--token-file", tmp.resolve("absent").toString());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.stderr()).contains("no such file or directory");
    }
}
