package io.portcullis.kubernetes.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.crds.MeshConfig;
import io.portcullis.kubernetes.status.StatusReadyApiServer;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two control-plane replicas, each its own process, on one real API server: only the Lease holder writes
 * status; killed with SIGKILL (no release), the other takes the Lease once it expires and writes the
 * status of a change made after the takeover.
 */
@NeedsKubeApiServer
class StatusLeaderElectionTest {

    private static final Duration LEASE = Duration.ofSeconds(8);
    private static final Duration RENEW_DEADLINE = Duration.ofSeconds(6);
    private static final Duration RETRY = Duration.ofSeconds(1);
    /** JVM start on a loaded machine: generous. */
    private static final Duration STARTUP = Duration.ofMinutes(3);

    @TempDir
    Path work;

    private KubeApiServer server;
    private final List<Process> replicas = new ArrayList<>();

    @AfterEach
    void stop() {
        replicas.forEach(Process::destroyForcibly);
        if (server != null) {
            server.close();
        }
    }

    @Test
    void onlyTheLeaseHolderWritesStatusAndWhenItIsKilledTheOtherTakesOverWithinTheLeaseAndWritesTheNextChange()
            throws Exception {
        server = KubeApiServer.start();
        KubernetesClient client = server.client();
        StatusReadyApiServer.installCrds(server);
        StatusReadyApiServer.createNamespace(client, MeshConfig.DEFAULT_NAMESPACE);
        StatusReadyApiServer.createNamespace(client, "ha");
        server.kubectlWithStdin(egress("httpbin", "routes"), "apply", "-n", "ha", "-f", "-")
                .orThrow();

        Replica a = start("replica-a");
        await().atMost(STARTUP).until(() -> a.printed("LEADING"));
        Replica b = start("replica-b");
        await().atMost(STARTUP).until(() -> b.printed("APPLIED 1 egresses"));

        await().atMost(STARTUP)
                .untilAsserted(() -> assertThat(accepted(client))
                        .containsEntry("status", "False")
                        .containsEntry("reason", "RouteGroupNotFound"));
        assertThat(holder(client)).contains("replica-a");
        assertThat(conditionOwners(client)).as("who wrote the conditions").containsExactly("replica-a");
        assertThat(b.printed("LEADING")).isFalse();
        assertThat(b.printed("WRITES")).as("the follower sent no status patch").isFalse();
        await().atMost(Duration.ofSeconds(30)).until(() -> a.printed("WRITES 1")); // printed every 300 ms

        long killedAt = System.nanoTime();
        a.process().destroyForcibly().waitFor();
        Duration bound = LEASE.plus(RETRY.multipliedBy(3));
        await().atMost(bound.plus(Duration.ofSeconds(30)))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> holder(client).filter("replica-b"::equals).isPresent());
        Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
        System.out.printf(
                "replica-b took the Lease %d ms after replica-a was killed (lease %d ms, retry %d ms)%n",
                takeover.toMillis(), LEASE.toMillis(), RETRY.toMillis());
        await().atMost(Duration.ofSeconds(30)).until(() -> b.printed("LEADING"));

        server.kubectlWithStdin(routeGroup("routes"), "apply", "-n", "ha", "-f", "-")
                .orThrow();
        await().atMost(Duration.ofMinutes(1))
                .untilAsserted(() -> assertThat(accepted(client))
                        .containsEntry("status", "True")
                        .containsEntry("reason", "Accepted"));
        assertThat(conditionOwners(client)).as("the new leader wrote them").containsExactly("replica-b");
        await().atMost(Duration.ofSeconds(30)).until(() -> b.printed("WRITES")); // printed every 300 ms
    }

    @Test
    void aLeaderThatClosesReleasesTheLeaseSoTheOtherLeadsLongBeforeItWouldExpire() {
        server = KubeApiServer.start();
        StatusReadyApiServer.createNamespace(server.client(), MeshConfig.DEFAULT_NAMESPACE);
        Duration longLease = Duration.ofMinutes(1);
        LeaseSettings settings =
                LeaseSettings.defaults().withTiming(longLease, Duration.ofSeconds(40), Duration.ofSeconds(1));
        try (KubernetesClient clientA = server.newClient();
                KubernetesClient clientB = server.newClient();
                LeaseElection b = new LeaseElection(clientB, withIdentity(settings, "b"), Leaderships.NONE)) {
            // Not a resource: closing it is the step under test.
            LeaseElection a = new LeaseElection(clientA, withIdentity(settings, "a"), Leaderships.NONE);
            a.start();
            await().atMost(STARTUP).until(a::leading);
            b.start();
            await().atMost(STARTUP).until(() -> holder(server.client()).isPresent());
            assertThat(b.leading()).isFalse();

            long closedAt = System.nanoTime();
            a.close();

            await().atMost(longLease.dividedBy(2)).until(b::leading);
            System.out.printf(
                    "b leads %d ms after a released the Lease (lease %d s)%n",
                    Duration.ofNanos(System.nanoTime() - closedAt).toMillis(), longLease.toSeconds());
            assertThat(holder(server.client())).contains("b");
        }
    }

    // ------------------------------------------------------------------ helpers

    private enum Leaderships implements Leadership {
        NONE;

        @Override
        public void startLeading() {}

        @Override
        public void stopLeading() {}
    }

    private static LeaseSettings withIdentity(LeaseSettings settings, String identity) {
        return new LeaseSettings(
                settings.namespace(),
                settings.name(),
                identity,
                settings.leaseDuration(),
                settings.renewDeadline(),
                settings.retryPeriod());
    }

    private record Replica(Process process, Path output) {
        boolean printed(String prefix) throws IOException {
            return Files.readAllLines(output).stream().anyMatch(l -> l.startsWith(prefix));
        }
    }

    private Replica start(String identity) throws IOException {
        Path logback = work.resolve("logback.xml");
        if (!Files.exists(logback)) {
            Files.writeString(logback, """
                    <configuration>
                      <appender name="ERR" class="ch.qos.logback.core.ConsoleAppender">
                        <target>System.err</target>
                        <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n</pattern></encoder>
                      </appender>
                      <root level="INFO"><appender-ref ref="ERR"/></root>
                    </configuration>
                    """);
        }
        Path output = work.resolve(identity + ".out");
        Path errors = work.resolve(identity + ".err");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dlogback.configurationFile=" + logback,
                "-cp",
                classpath,
                StatusReplicaMain.class.getName(),
                server.kubeconfig().toString(),
                identity,
                identity,
                MeshConfig.DEFAULT_NAMESPACE,
                Long.toString(LEASE.toMillis()),
                Long.toString(RENEW_DEADLINE.toMillis()),
                Long.toString(RETRY.toMillis()));
        Process process = new ProcessBuilder(command)
                .redirectOutput(output.toFile())
                .redirectError(errors.toFile())
                .start();
        replicas.add(process);
        return new Replica(process, output);
    }

    private static Optional<String> holder(KubernetesClient client) {
        Lease lease = client.resources(Lease.class)
                .inNamespace(MeshConfig.DEFAULT_NAMESPACE)
                .withName(LeaseSettings.DEFAULT_NAME)
                .get();
        return Optional.ofNullable(lease == null ? null : lease.getSpec().getHolderIdentity());
    }

    private static GenericKubernetesResource egress(KubernetesClient client) {
        return client.genericKubernetesResources("policy.flomesh.io/v1alpha1", "Egress")
                .inNamespace("ha")
                .withName("httpbin")
                .get();
    }

    /**
     * Field managers that own {@code status.conditions}, as the API server records them. (An update takes
     * over only the fields whose value it changes, so an unchanged observedGeneration stays with the
     * replica that wrote it first.)
     */
    private static List<String> conditionOwners(KubernetesClient client) {
        return egress(client).getMetadata().getManagedFields().stream()
                .filter(m -> "status".equals(m.getSubresource()))
                .filter(m -> m.getFieldsV1() != null
                        && m.getFieldsV1().getAdditionalProperties().get("f:status") instanceof Map<?, ?> status
                        && status.containsKey("f:conditions"))
                .map(ManagedFieldsEntry::getManager)
                .toList();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> accepted(KubernetesClient client) {
        Object status = egress(client).getAdditionalProperties().get("status");
        if (!(status instanceof Map<?, ?> map) || !(map.get("conditions") instanceof List<?> conditions)) {
            return Map.of();
        }
        return conditions.stream()
                .map(c -> (Map<String, Object>) c)
                .filter(c -> "Accepted".equals(c.get("type")))
                .findFirst()
                .orElse(Map.of());
    }

    private static String egress(String name, String routeGroup) {
        return """
                kind: Egress
                apiVersion: policy.flomesh.io/v1alpha1
                metadata:
                  name: %s
                spec:
                  sources:
                  - kind: ServiceAccount
                    name: curl
                    namespace: curl
                  hosts:
                  - httpbin.org
                  ports:
                  - number: 80
                    protocol: http
                  matches:
                  - apiGroup: specs.smi-spec.io/v1alpha4
                    kind: HTTPRouteGroup
                    name: %s
                """.formatted(name, routeGroup);
    }

    private static String routeGroup(String name) {
        return """
                apiVersion: specs.smi-spec.io/v1alpha4
                kind: HTTPRouteGroup
                metadata:
                  name: %s
                spec:
                  matches:
                  - name: allowed
                    pathRegex: /get
                    methods: ["GET"]
                """.formatted(name);
    }
}
