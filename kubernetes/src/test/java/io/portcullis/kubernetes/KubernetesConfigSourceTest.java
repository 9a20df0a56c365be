package io.portcullis.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.portcullis.crds.Egress;
import io.portcullis.crds.MeshConfig;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.NeedsKubeApiServer;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.ManifestStore;
import io.portcullis.source.SourceUpdate;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes config source against a real API server (watch cache off, so a compacted
 * resourceVersion really expires watches with 410 Gone).
 */
@NeedsKubeApiServer
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubernetesConfigSourceTest {

    private static final String MESH = MeshConfig.DEFAULT_NAMESPACE;
    private static final Duration CATCH_UP = Duration.ofSeconds(60);

    private KubeApiServer server;
    private KubernetesClient admin;

    @BeforeAll
    void startApiServer() throws IOException {
        server = KubeApiServer.start(List.of("--watch-cache=false"));
        server.installCrds();
        admin = server.client();
        server.kubectlWithStdin(resource("/fsm-mesh-config.yaml"), "apply", "-f", "-")
                .orThrow();
    }

    @AfterAll
    void stopApiServer() {
        if (server != null) {
            server.close();
        }
    }

    /** First, while the API server holds only the guide's objects (the other tests add their own). */
    @Test
    @Order(1)
    void theGuidesManifestsGiveTheSnapshotTheDirectorySourceGives(@TempDir Path directory) throws Exception {
        enrol("curl");
        server.kubectl(
                        "patch",
                        "meshconfig",
                        "fsm-mesh-config",
                        "-n",
                        "fsm-system",
                        "-p",
                        guide("meshconfig-merge-patch.json").trim(),
                        "--type=merge")
                .orThrow();
        ManifestStore store = new ManifestStore(directory, MESH);
        store.apply(resource("/fsm-mesh-config.yaml"), "fsm-mesh-config.yaml", null);
        store.patch(
                "meshconfig",
                MESH,
                MeshConfig.DEFAULT_NAME,
                guide("meshconfig-merge-patch.json").trim());
        List<List<String>> states = List.of(
                List.of("01-http-egress.yaml", "02-https-egress.yaml", "03-tcp-egress.yaml"),
                List.of("02-https-egress.yaml", "03-tcp-egress.yaml", "04-http-route-group-and-egress.yaml"),
                List.of(
                        "02-https-egress.yaml",
                        "04-http-route-group-and-egress.yaml",
                        "05-http-route-group-updated.yaml"));
        Updates updates = new Updates();
        try (KubernetesConfigSource source = new KubernetesConfigSource(admin, MESH)) {
            source.start(updates);
            for (List<String> files : states) {
                server.kubectl("delete", "egress,httproutegroup", "--all", "-n", "curl")
                        .orThrow();
                Path dir = Files.createTempDirectory(directory, "state");
                Files.copy(directory.resolve("meshconfig.fsm-system.fsm-mesh-config.yaml"), dir.resolve("mesh.yaml"));
                for (String file : files) {
                    server.kubectlWithStdin(guide(file), "apply", "-f", "-").orThrow();
                    if (!file.startsWith("05")) {
                        Files.writeString(dir.resolve(file), guide(file));
                    }
                }
                if (files.contains("05-http-route-group-updated.yaml")) {
                    // the directory holds what the API server holds after both applies: 04's Egress, 05's route group
                    String both = guide("04-http-route-group-and-egress.yaml");
                    String egressOf04 = both.substring(both.indexOf("\n---\n") + "\n---\n".length());
                    Files.writeString(dir.resolve("04-http-route-group-and-egress.yaml"), egressOf04);
                    Files.writeString(dir.resolve("05.yaml"), guide("05-http-route-group-updated.yaml"));
                }
                SourceUpdate fromDirectory = new DirectoryConfigSource(dir, MESH).readOnce();
                assertThat(fromDirectory.problems()).isEmpty();
                SourceUpdate fromApiServer = updates.await(
                        "the API server's objects after applying " + files,
                        u -> u.snapshot().equals(fromDirectory.snapshot()));
                assertThat(fromApiServer).isEqualTo(fromDirectory);
            }
        }
    }

    @Test
    void nothingIsPublishedBeforeEveryInformerHasListedEverything() throws Exception {
        enrol("start");
        for (int i = 0; i < 40; i++) {
            ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("start", "pre-" + i, 8000 + i));
        }
        ResourceSnapshot expected = ApiServerContent.snapshot(admin, MESH);
        Updates updates = new Updates();
        try (KubernetesConfigSource source = new KubernetesConfigSource(admin, MESH)) {
            source.start(updates);
            assertThat(updates.all())
                    .as("start() returns once the first snapshot is applied, and that snapshot is complete")
                    .hasSize(1);
            assertThat(ApiServerContent.keys(updates.all().get(0).snapshot()))
                    .containsExactlyElementsOf(ApiServerContent.keys(expected));
            assertThat(updates.all().get(0).snapshot()).isEqualTo(expected);
            assertThat(updates.all().get(0).snapshot().mesh())
                    .as("the MeshConfig was listed too")
                    .isEqualTo(expected.mesh());
        }
    }

    @Test
    void aBurstOfChangesIsCoalescedIntoFarFewerUpdates() throws Exception {
        enrol("burst");
        CountDownLatch release = new CountDownLatch(1);
        Updates updates = new Updates();
        int burst = 60;
        try (KubernetesConfigSource source = new KubernetesConfigSource(admin, MESH)) {
            source.start(update -> {
                updates.accept(update);
                if (updates.all().size() == 2) {
                    // the control plane is busy translating the first change while the rest arrive
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            for (int i = 0; i < burst; i++) {
                ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("burst", "b-" + i, 9000 + i));
            }
            await("the informer cache holds the whole burst")
                    .atMost(CATCH_UP)
                    .until(() -> source.sizes().get("egresses.policy.flomesh.io")
                            >= ApiServerContent.list(admin, Egress.class).size());
            release.countDown();
            ResourceSnapshot expected = ApiServerContent.snapshot(admin, MESH);
            updates.await("every object of the burst", u -> u.snapshot().equals(expected));
            assertThat(updates.all().size() - 1)
                    .as("updates after start for a burst of %d creations", burst)
                    .isLessThanOrEqualTo(3);
        }
    }

    @Test
    void objectsOfNamespacesOutsideTheMeshAreLeftOutAndReportedUntilTheNamespaceIsEnrolled() throws Exception {
        server.kubectl("create", "namespace", "outside").orThrow();
        ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("outside", "not-yet", 7001));
        Updates updates = new Updates();
        try (KubernetesConfigSource source = new KubernetesConfigSource(admin, MESH)) {
            source.start(updates);
            SourceUpdate first = updates.last();
            assertThat(ApiServerContent.keys(first.snapshot())).doesNotContain("Egress outside/not-yet");
            assertThat(first.problems())
                    .anySatisfy(p -> assertThat(p)
                            .contains("Egress outside/not-yet is ignored: namespace outside is not in the mesh")
                            .contains("flomesh.io/monitored-by=fsm"));
            server.kubectl("label", "namespace", "outside", "flomesh.io/monitored-by=fsm")
                    .orThrow();
            updates.await(
                    "the Egress once its namespace is enrolled",
                    u -> ApiServerContent.keys(u.snapshot()).contains("Egress outside/not-yet"));
            server.kubectl("label", "namespace", "outside", "flomesh.io/monitored-by-")
                    .orThrow();
            updates.await(
                    "the Egress withdrawn when its namespace leaves the mesh",
                    u -> !ApiServerContent.keys(u.snapshot()).contains("Egress outside/not-yet"));
        }
    }

    @Test
    void annotatingANamespaceAuditSwitchesItLiveAndEnforceOrRemovingTheAnnotationSwitchesItBack() throws Exception {
        enrol("audited");
        ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("audited", "kept", 7400));
        Updates updates = new Updates();
        try (KubernetesConfigSource source = new KubernetesConfigSource(admin, MESH)) {
            source.start(updates);
            SourceUpdate enforced = updates.last();
            assertThat(enforced.snapshot().auditedNamespaces()).doesNotContain("audited");

            annotate("audited", "audit");
            SourceUpdate audited = updates.await(
                    "namespace audited in audit mode",
                    u -> u.snapshot().auditedNamespaces().contains("audited"));
            assertThat(updates.all()).as("one annotation, one snapshot").hasSize(2);
            assertThat(audited.snapshot())
                    .as("only the audited namespaces changed")
                    .isEqualTo(enforced.snapshot().withAuditedNamespaces(union(enforced, "audited")));
            assertThat(audited.problems()).isEqualTo(enforced.problems());

            annotate("audited", "enforce");
            updates.await(
                    "namespace audited enforced again (annotation overwritten with enforce)",
                    u -> !u.snapshot().auditedNamespaces().contains("audited"));
            assertThat(updates.last().snapshot()).isEqualTo(enforced.snapshot());

            annotate("audited", "audit");
            updates.await("audit again", u -> u.snapshot().auditedNamespaces().contains("audited"));
            server.kubectl("annotate", "namespace", "audited", "portcullis.io/egress-mode-")
                    .orThrow();
            updates.await(
                    "namespace audited enforced again (annotation removed)",
                    u -> !u.snapshot().auditedNamespaces().contains("audited"));
            assertThat(updates.last().snapshot()).isEqualTo(enforced.snapshot());
        }
    }

    @Test
    void anEgressModeThatIsNeitherAuditNorEnforceIsReportedNamingTheNamespaceAndTheFixAndStaysEnforced()
            throws Exception {
        enrol("typo");
        annotate("typo", "audit");
        server.kubectl("create", "namespace", "unenrolled-audit").orThrow();
        annotate("unenrolled-audit", "audit");
        Updates updates = new Updates();
        try (KubernetesConfigSource source = new KubernetesConfigSource(admin, MESH)) {
            source.start(updates);
            assertThat(updates.last().snapshot().auditedNamespaces())
                    .contains("typo")
                    .as("a namespace outside the mesh has no sidecars: its mode is neither applied nor reported")
                    .doesNotContain("unenrolled-audit");
            assertThat(updates.last().problems()).noneSatisfy(p -> assertThat(p).contains("unenrolled-audit"));

            annotate("typo", "Audit ");
            SourceUpdate invalid = updates.await(
                    "the invalid mode reported",
                    u -> u.problems().stream().anyMatch(p -> p.startsWith("Namespace typo:")));
            assertThat(invalid.snapshot().auditedNamespaces())
                    .as("an invalid mode fails closed: enforced")
                    .doesNotContain("typo");
            assertThat(invalid.problems())
                    .contains("Namespace typo: metadata.annotations[\"portcullis.io/egress-mode\"] is \"Audit \", which"
                            + " is neither \"audit\" nor \"enforce\": its sidecars stay enforced; set it to \"audit\""
                            + " to let refused egress through as would_deny, or \"enforce\" ('portcullis namespace"
                            + " audit|enforce typo' on Kubernetes, or the annotation in the Namespace manifest of the"
                            + " config directory)");

            annotate("typo", "enforce");
            SourceUpdate fixed = updates.await(
                    "the problem gone once the mode is valid",
                    u -> u.problems().stream().noneMatch(p -> p.startsWith("Namespace typo:")));
            assertThat(fixed.snapshot().auditedNamespaces()).doesNotContain("typo");

            enrol("unenrolled-audit");
            updates.await(
                    "the annotation of a namespace applies once it is enrolled",
                    u -> u.snapshot().auditedNamespaces().contains("unenrolled-audit"));
        } finally {
            server.kubectl("annotate", "namespace", "typo", "unenrolled-audit", "portcullis.io/egress-mode-")
                    .orThrow();
        }
    }

    @Test
    void aWatchExpiredWhileBrokenRelistsAndPublishesExactlyTheApiServersContent() throws Exception {
        enrol("gone");
        ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("gone", "kept", 7100));
        ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("gone", "changed", 7101));
        ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("gone", "deleted", 7102));
        LogRecorder reflectorLog = captureReflectorLog();
        Updates updates = new Updates();
        try (SeverableTcpProxy proxy = new SeverableTcpProxy(apiServerAddress());
                KubernetesClient throughProxy = clientThrough(proxy);
                KubernetesConfigSource source = new KubernetesConfigSource(throughProxy, MESH)) {
            source.start(updates);
            proxy.sever();
            ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("gone", "changed", 7201));
            server.kubectl("delete", "egress", "deleted", "-n", "gone").orThrow();
            ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("gone", "created", 7203));
            server.kubectl(
                            "patch",
                            "meshconfig",
                            "fsm-mesh-config",
                            "-n",
                            "fsm-system",
                            "-p",
                            "{\"spec\":{\"traffic\":{\"enableEgress\":false}}}",
                            "--type=merge")
                    .orThrow();
            server.compactEtcd();
            // a write after the compaction, so that no watch can resume from the compaction revision itself
            ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("gone", "after-compaction", 7204));
            proxy.restore();
            ResourceSnapshot expected = ApiServerContent.snapshot(admin, MESH);
            SourceUpdate caughtUp = updates.await(
                    "the API server's content after the relist",
                    u -> u.snapshot().equals(expected));
            assertThat(ApiServerContent.keys(caughtUp.snapshot()))
                    .containsExactlyElementsOf(ApiServerContent.keys(expected))
                    .contains("Egress gone/created", "Egress gone/after-compaction")
                    .doesNotContain("Egress gone/deleted")
                    .doesNotHaveDuplicates();
            assertThat(caughtUp.snapshot().mesh().passthrough()).isFalse();
            assertThat(reflectorLog.messages)
                    .as("the watch really expired (410 Gone) and the informers listed again")
                    .anySatisfy(m -> assertThat(m).contains("http gone"));
        } finally {
            releaseReflectorLog(reflectorLog);
        }
    }

    @Test
    void anApiServerRestartIsSurvivedWithNothingLostOrDuplicated() throws Exception {
        enrol("restart");
        ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("restart", "before", 7300));
        Updates updates = new Updates();
        try (KubernetesClient own = server.newClient();
                KubernetesConfigSource source = new KubernetesConfigSource(own, MESH)) {
            source.start(updates);
            server.restartApiServer();
            ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("restart", "after", 7301));
            ApiServerContent.apply(admin, Egress.class, ApiServerContent.egress("restart", "before", 7302));
            ResourceSnapshot expected = ApiServerContent.snapshot(admin, MESH);
            SourceUpdate caughtUp = updates.await(
                    "the changes made after the restart", u -> u.snapshot().equals(expected));
            assertThat(ApiServerContent.keys(caughtUp.snapshot()))
                    .containsExactlyElementsOf(ApiServerContent.keys(expected))
                    .contains("Egress restart/before", "Egress restart/after")
                    .doesNotHaveDuplicates();
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private void enrol(String namespace) {
        if (admin.namespaces().withName(namespace).get() == null) {
            server.kubectl("create", "namespace", namespace).orThrow();
        }
        server.kubectl("label", "--overwrite", "namespace", namespace, "flomesh.io/monitored-by=fsm")
                .orThrow();
    }

    private void annotate(String namespace, String mode) {
        server.kubectl("annotate", "--overwrite", "namespace", namespace, "portcullis.io/egress-mode=" + mode)
                .orThrow();
    }

    private static java.util.Set<String> union(SourceUpdate update, String namespace) {
        java.util.Set<String> audited =
                new java.util.TreeSet<>(update.snapshot().auditedNamespaces());
        audited.add(namespace);
        return audited;
    }

    private InetSocketAddress apiServerAddress() {
        URI url = URI.create(server.url());
        return new InetSocketAddress(url.getHost(), url.getPort());
    }

    private KubernetesClient clientThrough(SeverableTcpProxy proxy) throws IOException {
        Config config = Config.fromKubeconfig(
                Files.readString(server.kubeconfig()).replace(server.url(), "https://127.0.0.1:" + proxy.port()));
        // reconnect soon after the test restores the connection, not after a back-off of many seconds
        config.setWatchReconnectInterval(200);
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** Collects log events from the informers' threads (logback's ListAppender is not thread-safe to read). */
    static final class LogRecorder extends AppenderBase<ILoggingEvent> {
        final List<String> messages = new CopyOnWriteArrayList<>();

        @Override
        protected void append(ILoggingEvent event) {
            messages.add(event.getFormattedMessage());
        }
    }

    private static LogRecorder captureReflectorLog() {
        Logger logger = (Logger) LoggerFactory.getLogger("io.fabric8.kubernetes.client.informers.impl.cache.Reflector");
        LogRecorder appender = new LogRecorder();
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.DEBUG);
        return appender;
    }

    private static void releaseReflectorLog(LogRecorder appender) {
        Logger logger = (Logger) LoggerFactory.getLogger("io.fabric8.kubernetes.client.informers.impl.cache.Reflector");
        logger.detachAppender(appender);
        logger.setLevel(null);
    }

    static String guide(String file) throws IOException {
        return resource("/guide/" + file);
    }

    static String resource(String name) throws IOException {
        try (InputStream in = KubernetesConfigSourceTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Every update a source published, in order. */
    static final class Updates implements java.util.function.Consumer<SourceUpdate> {
        private final List<SourceUpdate> all = new CopyOnWriteArrayList<>();

        @Override
        public void accept(SourceUpdate update) {
            all.add(update);
        }

        List<SourceUpdate> all() {
            return all;
        }

        SourceUpdate last() {
            return all.get(all.size() - 1);
        }

        /** Waits until the latest update matches; fails with the latest update and what was expected. */
        SourceUpdate await(String what, java.util.function.Predicate<SourceUpdate> matches) {
            try {
                org.awaitility.Awaitility.await(what)
                        .atMost(CATCH_UP)
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> !all.isEmpty() && matches.test(last()));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError(
                        what + " never published; the last update: " + (all.isEmpty() ? "none" : last()), e);
            }
            return last();
        }
    }
}
