package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.source.SourceUpdate;
import io.portcullis.translator.EnvoyProcess;
import io.portcullis.translator.GeneratedPolicySet;
import io.portcullis.translator.NeedsEnvoy;
import io.portcullis.translator.PolicySetArbitraries;
import io.portcullis.translator.PropertyRunSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * A real Envoy sidecar on ADS to the in-process control plane is switched through generated policy
 * sets (the generator of {@code EnvoyAcceptsGeneratedPolicySetsTest}), one per try: every version its
 * identity is served must be ACKed for listeners, clusters and (when there are any) routes. A NACK
 * fails the property with Envoy's message, and jqwik shrinks by pushing smaller sets to the same Envoy.
 * This covers what {@code --mode validate} cannot: updates of a running listener, RDS over ADS, the
 * retired route tables the control plane keeps serving.
 *
 * <p>Envoy binds the outbound listener's port 15001 on the host, so the run holds
 * {@code /tmp/portcullis-lab.lock} (as the network lab's users do; run it by hand under
 * {@code flock /tmp/portcullis-lab.lock}). A missing Envoy fails the test.
 */
@NeedsEnvoy
class LiveEnvoyAcksGeneratedPolicySetsTest {

    static final Path LAB_LOCK = Path.of("/tmp/portcullis-lab.lock");
    static final ServiceAccountRef SIDECAR = new ServiceAccountRef("curl", "curl");
    private static final Duration ACK_DEADLINE = Duration.ofSeconds(60);

    private static FileChannel lockFile;
    private static FileLock lock;
    private static EgressControlPlane controlPlane;
    private static SidecarRegistry registry;
    private static XdsServer server;
    private static Process envoy;
    private static Path envoyLog;
    private static final AtomicLong VERSIONS = new AtomicLong();
    private static final AtomicLong VERSIONS_WITH_ROUTES = new AtomicLong();
    private static final AtomicLong PUSH_NANOS = new AtomicLong();

    @BeforeContainer
    static void startControlPlaneAndEnvoy() throws Exception {
        lockFile = FileChannel.open(LAB_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        lock = lockFile.lock();
        controlPlane = new EgressControlPlane();
        controlPlane.apply(new SourceUpdate(ResourceSnapshot.EMPTY, List.of()));
        registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
        server = new XdsServer(new InetSocketAddress("127.0.0.1", 0), controlPlane, registry).start();

        Path dir = Files.createDirectories(Path.of("target", "live-envoy"));
        Path bootstrap = dir.resolve("bootstrap.json");
        Files.writeString(
                bootstrap,
                new SidecarBootstrap(
                                new SidecarNodeId(SIDECAR.namespace(), SIDECAR.name(), "property-1"),
                                "127.0.0.1",
                                server.port(),
                                freePort(),
                                "127.0.0.1")
                        .toJson());
        envoyLog = dir.resolve("envoy.log");
        envoy = new ProcessBuilder(
                        EnvoyProcess.binary().toString(),
                        "-c",
                        bootstrap.toString(),
                        "--disable-hot-restart",
                        "--log-level",
                        "warn",
                        "--drain-strategy",
                        "immediate",
                        "--drain-time-s",
                        "1")
                .redirectErrorStream(true)
                .redirectOutput(envoyLog.toFile())
                .start();
        await("Envoy connects over ADS (log: " + envoyLog.toAbsolutePath() + ")")
                .atMost(ACK_DEADLINE)
                .until(() -> {
                    requireEnvoyAlive();
                    return controlPlane.served(SIDECAR).isPresent();
                });
    }

    @AfterContainer
    static void stop() throws Exception {
        try {
            System.out.printf(
                    "LiveEnvoyAcksGeneratedPolicySetsTest: %d versions pushed (%d with allowed HTTP hosts),"
                            + " ACKed in %.1f s in total%n",
                    VERSIONS.get(), VERSIONS_WITH_ROUTES.get(), PUSH_NANOS.get() / 1e9);
            if (envoy != null) {
                envoy.destroy();
                if (!envoy.waitFor(10, TimeUnit.SECONDS)) {
                    envoy.destroyForcibly();
                }
            }
            if (server != null) {
                server.close();
            }
        } finally {
            if (lock != null) {
                lock.release();
                lockFile.close();
            }
        }
    }

    @Provide
    Arbitrary<GeneratedPolicySet> policySets() {
        Arbitrary<GeneratedPolicySet> any = new PolicySetArbitraries(PropertyRunSettings.regexFeatures()).policySets();
        // Mostly sets whose policies are enforced (else the listener is one default chain), some mode switches.
        Arbitrary<GeneratedPolicySet> enforced = any.filter(
                set -> set.mesh() == GeneratedPolicySet.Mesh.ABSENT || set.mesh() == GeneratedPolicySet.Mesh.POLICY);
        return Arbitraries.frequencyOf(Tuple.of(3, enforced), Tuple.of(1, any));
    }

    // No edge cases: those are the smallest sets, and this sample is for big ones.
    @Property(tries = 20, shrinking = ShrinkingMode.BOUNDED, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(PropertyRunSettings.class)
    void aRunningEnvoyAcksEveryVersionItsIdentityIsServed(@ForAll("policySets") GeneratedPolicySet set) {
        long start = System.nanoTime();
        controlPlane.apply(new SourceUpdate(set.snapshot(), List.of()));
        EgressControlPlane.Served served = controlPlane.served(SIDECAR).orElseThrow();
        SidecarResources expected = served.resources();
        await("Envoy ACKs version " + expected.version())
                .atMost(ACK_DEADLINE)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> acked(expected));
        VERSIONS.incrementAndGet();
        // expected.routes() also holds the deny-all tables of retired ports: ask the model.
        if (served.model() instanceof SidecarEgressModel.PolicyEnforced policy
                && policy.ports().stream().anyMatch(port -> !port.httpHosts().isEmpty())) {
            VERSIONS_WITH_ROUTES.incrementAndGet();
        }
        PUSH_NANOS.addAndGet(System.nanoTime() - start);
    }

    /**
     * Negative control: a listener Envoy refuses (two filter chains with the same match), put straight
     * into the cache, fails the ACK check with Envoy's message; then the served snapshot is restored.
     */
    @Example
    void aNackedVersionFailsTheCheckWithEnvoysMessage() {
        SidecarResources served = controlPlane.served(SIDECAR).orElseThrow().resources();
        Listener listener = served.listeners().get(0);
        FilterChain.Builder deny = listener.getDefaultFilterChain().toBuilder()
                .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(9)));
        SidecarResources broken = SidecarResources.of(
                List.of(listener.toBuilder()
                        .addFilterChains(deny.clone().setName("discard_a"))
                        .addFilterChains(deny.clone().setName("discard_b"))
                        .build()),
                served.clusters(),
                served.routes());
        try {
            controlPlane.cache().setSnapshot(SIDECAR, snapshot(broken));
            assertThatThrownBy(() -> await().atMost(ACK_DEADLINE)
                            .pollInterval(Duration.ofMillis(50))
                            .until(() -> acked(broken)))
                    .hasMessageContaining(
                            "NACKed Listener version " + broken.versions().listeners())
                    .hasMessageContaining("has the same matching rules defined as");
        } finally {
            controlPlane.cache().setSnapshot(SIDECAR, snapshot(served));
        }
    }

    private static Snapshot snapshot(SidecarResources resources) {
        SidecarResources.Versions versions = resources.versions();
        return Snapshot.create(
                resources.clusters(),
                versions.clusters(),
                List.of(),
                versions.config(),
                resources.listeners(),
                versions.listeners(),
                resources.routes(),
                versions.routes(),
                List.of(),
                versions.config());
    }

    /**
     * True once every type of {@code expected} is ACKed at that type's version (route tables when its listeners
     * name some); a NACK of one fails at once.
     */
    private static boolean acked(SidecarResources expected) throws IOException {
        requireEnvoyAlive();
        List<SidecarStatus> sidecars = registry.sidecars();
        if (sidecars.size() != 1) {
            return false;
        }
        Map<String, SidecarStatus.TypeStatus> types = sidecars.get(0).types();
        SidecarResources.Versions versions = expected.versions();
        for (Map.Entry<String, SidecarStatus.TypeStatus> type : types.entrySet()) {
            String version = versions.of(type.getKey()).orElse(null);
            if (version != null
                    && version.equals(type.getValue().nackedVersion())
                    && !version.equals(type.getValue().ackedVersion())) {
                throw new AssertionError("Envoy NACKed " + type.getKey() + " version " + version + ": "
                        + type.getValue().nackMessage());
            }
        }
        List<String> needed = versions.listenersUseRoutes()
                ? List.of("Listener", "Cluster", "RouteConfiguration")
                : List.of("Listener", "Cluster");
        return needed.stream()
                .allMatch(t -> types.containsKey(t)
                        && versions.of(t).orElseThrow().equals(types.get(t).ackedVersion()));
    }

    private static void requireEnvoyAlive() throws IOException {
        if (!envoy.isAlive()) {
            throw new AssertionError("Envoy exited with " + envoy.exitValue() + ":\n" + Files.readString(envoyLog));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
