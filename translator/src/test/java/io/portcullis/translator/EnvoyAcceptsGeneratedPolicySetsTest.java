package io.portcullis.translator;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.model.ResourceSnapshot;
import io.portcullis.model.ServiceAccountRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * For any policy set a user may write, Envoy accepts what every identity it names is served. Random
 * sets ({@link PolicySetArbitraries}) are written as YAML and go the way of {@code portcullis translate}:
 * manifest reader, snapshot, {@link EgressTranslator} for every named identity. The listeners, routes
 * and clusters of each identity go into a static bootstrap as in {@link EnvoyAcceptsGoldenConfigTest}
 * and through the real {@code envoy --mode validate}; a rejection fails the property with Envoy's
 * message and jqwik shrinks to a minimal set.
 *
 * <p>Envoy's start dominates (about half a second), so one try is a batch of up to
 * {@value #MAX_SETS_PER_ENVOY_RUN} sets validated in one Envoy run: each identity of each set gets its own
 * listener name and port. When a batch is rejected each of its sets is validated alone, so the failure
 * names the set. Seed, size and the regex switch: see {@link PropertyRunSettings}.
 */
@NeedsEnvoy
class EnvoyAcceptsGeneratedPolicySetsTest {

    static final int MAX_SETS_PER_ENVOY_RUN = 10;
    /** When no policy of a set is accepted, this identity still gets (deny-all or passthrough) config. */
    private static final ServiceAccountRef UNNAMED = new ServiceAccountRef("curl", "curl");

    private static final Stats STATS = new Stats();

    @Provide
    Arbitrary<List<GeneratedPolicySet>> batches() {
        return new PolicySetArbitraries(PropertyRunSettings.regexFeatures())
                .policySets()
                .list()
                .ofMinSize(1)
                .ofMaxSize(MAX_SETS_PER_ENVOY_RUN)
                .withSizeDistribution(RandomDistribution.uniform());
    }

    @Property(shrinking = ShrinkingMode.BOUNDED)
    @AddLifecycleHook(PropertyRunSettings.class)
    void envoyAcceptsTheXdsOfEveryIdentityOfEveryGeneratedPolicySet(@ForAll("batches") List<GeneratedPolicySet> sets)
            throws IOException {
        List<TranslatedSet> translated = sets.stream()
                .map(EnvoyAcceptsGeneratedPolicySetsTest::translate)
                .toList();
        EnvoyProcess.Result batch = validate(translated);
        long done = STATS.sets.addAndGet(sets.size());
        // Progress for long runs; in fail-fast mode the count would mostly be shrinking steps.
        if (PropertyRunSettings.collectAll() && done / 500 != (done - sets.size()) / 500) {
            System.out.printf(
                    "progress: %d sets, %d rejected, %.0f s in Envoy%n",
                    done, STATS.rejectedSets.get(), STATS.envoyNanos.get() / 1e9);
        }
        STATS.identities.addAndGet(
                translated.stream().mapToInt(t -> t.resources().size()).sum());
        if (batch.exitCode() == 0) {
            return;
        }
        // Name the culprits: each set alone (a batch could in principle fail only for being a batch).
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < translated.size(); i++) {
            EnvoyProcess.Result alone = validate(List.of(translated.get(i)));
            if (alone.exitCode() != 0) {
                String rejection = envoyError(alone.output());
                STATS.rejections.merge(RejectionClass.of(rejection), 1L, Long::sum);
                long n = STATS.rejectedSets.incrementAndGet();
                if (PropertyRunSettings.collectAll()) {
                    keep(n, translated.get(i).set(), alone.output());
                }
                failures.add("set " + i + " of the batch: " + RejectionClass.of(rejection) + "\nEnvoy's whole message: "
                        + rejection + "\n" + translated.get(i).set().yaml());
            }
        }
        if (failures.isEmpty()) {
            STATS.rejections.merge("only as a batch: " + RejectionClass.of(envoyError(batch.output())), 1L, Long::sum);
            failures.add("the batch as a whole (no set alone): " + envoyError(batch.output()));
        }
        if (!PropertyRunSettings.collectAll()) {
            throw new AssertionError(
                    "envoy --mode validate rejected generated config:\n" + String.join("\n", failures));
        }
    }

    /**
     * Negative control: one broken identity in a batch (two filter chains with the same match) makes
     * the batch fail with Envoy's message, while the same batch without it passes, so batching, renaming
     * and the error extraction neither hide a rejection nor invent one.
     */
    @Example
    void aBatchWithOneBrokenIdentityIsRejectedWithEnvoysMessage() throws IOException {
        GeneratedPolicySet set = new GeneratedPolicySet(
                GeneratedPolicySet.Mesh.ABSENT,
                List.of(new GeneratedPolicySet.Policy(
                        "curl",
                        List.of(new GeneratedPolicySet.Source("curl", null)),
                        List.of("httpbin.org"),
                        List.of(),
                        List.of(new GeneratedPolicySet.Port(80, "http")),
                        List.of())),
                List.of(),
                GeneratedPolicySet.Quoting.SINGLE);
        TranslatedSet good = translate(set);
        SidecarResources resources = good.resources().get(UNNAMED);
        Listener listener = resources.listeners().get(0);
        var http = listener.getFilterChains(0);
        SidecarResources broken = SidecarResources.of(
                List.of(listener.toBuilder()
                        .addFilterChains(http.toBuilder().setName("duplicate_of_" + http.getName()))
                        .build()),
                resources.clusters(),
                resources.routes());
        TranslatedSet bad = new TranslatedSet(set, Map.of(UNNAMED, broken));

        assertThat(validate(List.of(good, good, good)).exitCode()).isZero();
        EnvoyProcess.Result result = validate(List.of(good, bad, good));
        assertThat(result.exitCode()).isNotZero();
        assertThat(envoyError(result.output()))
                // Envoy names the listener by address: the second identity of the batch got port 15001 + 1.
                .contains("error adding listener '0.0.0.0:15002'")
                .contains("has the same matching rules defined as");
    }

    @AfterContainer
    static void report() {
        System.out.println(STATS.summary());
        if (PropertyRunSettings.collectAll() && STATS.rejectedSets.get() > 0) {
            throw new AssertionError(
                    STATS.rejectedSets.get() + " generated policy sets were rejected by Envoy:\n" + STATS.summary());
        }
    }

    // ------------------------------------------------------------------ translation

    /** One generated set translated for every identity it names, as {@code portcullis translate} does. */
    record TranslatedSet(GeneratedPolicySet set, Map<ServiceAccountRef, SidecarResources> resources) {}

    static TranslatedSet translate(GeneratedPolicySet set) {
        long start = System.nanoTime();
        ResourceSnapshot snapshot = set.snapshot();
        EgressTranslator translator = new EgressTranslator();
        Set<ServiceAccountRef> identities =
                new TreeSet<>(translator.validate(snapshot).namedIdentities());
        if (identities.isEmpty()) {
            identities.add(UNNAMED);
        }
        TranslatedSet translated = new TranslatedSet(
                set, translator.translate(snapshot, identities).resources());
        STATS.translateNanos.addAndGet(System.nanoTime() - start);
        return translated;
    }

    // ------------------------------------------------------------------ Envoy

    private static EnvoyProcess.Result validate(List<TranslatedSet> sets) throws IOException {
        // Keys only name the listeners (egress_outbound@s<set>.<namespace>/<name>); resources are untouched.
        Map<ServiceAccountRef, SidecarResources> all = new TreeMap<>();
        for (int i = 0; i < sets.size(); i++) {
            for (Map.Entry<ServiceAccountRef, SidecarResources> e :
                    sets.get(i).resources().entrySet()) {
                all.put(
                        new ServiceAccountRef(
                                "s" + i + "." + e.getKey().namespace(),
                                e.getKey().name()),
                        e.getValue());
            }
        }
        Path file = Files.createTempFile("portcullis-property-", ".json");
        try {
            Files.writeString(file, EnvoyAcceptsGoldenConfigTest.staticBootstrap(List.copyOf(all.entrySet())));
            long start = System.nanoTime();
            EnvoyProcess.Result result = EnvoyProcess.validate(file);
            STATS.envoyNanos.addAndGet(System.nanoTime() - start);
            STATS.envoyRuns.incrementAndGet();
            return result;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Each rejected set with Envoy's whole output, for reading after a long run. */
    private static void keep(long n, GeneratedPolicySet set, String envoyOutput) throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "property-rejections"));
        Files.writeString(dir.resolve("rejected-" + n + ".txt"), envoyOutput + "\n" + set.yaml());
    }

    private static final Pattern LOG_LINE =
            Pattern.compile("^\\[\\d{4}-[^]]*\\]\\[[^]]*\\]\\[(\\w+)\\]\\[[^]]*\\] (.*)$");

    /**
     * Envoy's critical and error log entries without the log prefix, with their continuation lines (a
     * proto constraint failure spans several); the whole output when there are none.
     */
    static String envoyError(String output) {
        List<String> entries = new ArrayList<>();
        StringBuilder current = null;
        for (String line : output.lines().toList()) {
            Matcher m = LOG_LINE.matcher(line);
            if (m.matches()) {
                current = null;
                if (m.group(1).equals("critical") || m.group(1).equals("error")) {
                    current = new StringBuilder(m.group(2));
                    entries.add(null);
                }
            } else if (current != null && !line.isBlank()) {
                current.append('\n').append(line);
            }
            if (current != null) {
                entries.set(entries.size() - 1, current.toString());
            }
        }
        return entries.isEmpty() ? output.strip() : String.join("\n", entries);
    }

    /** A rejection message with the details that vary between sets (names, numbers, regexes) blanked. */
    static final class RejectionClass {
        private static final Pattern PREFIX =
                Pattern.compile("^\\[[^]]*\\] error initializing configuration '[^']*': ");

        private static final Pattern PROTO_CONSTRAINT =
                Pattern.compile("Proto constraint validation failed \\((.*)\\)");

        static String of(String message) {
            Matcher proto = PROTO_CONSTRAINT.matcher(message);
            if (proto.find()) {
                String[] causes = proto.group(1).split(" \\| caused by ", -1);
                message = "Proto constraint validation failed: " + causes[causes.length - 1];
            }
            // A proto constraint failure spans lines; its first line only points at goo.gle/debugproto.
            String joined = PREFIX.matcher(message)
                    .replaceFirst("")
                    .replaceAll("\\s*\\n\\s*", " ")
                    .replace("goo.gle/debugproto", "")
                    .strip();
            String general = joined.replaceAll("'[^']*'", "'…'")
                    .replaceAll("\"[^\"]*\"", "\"…\"")
                    .replaceAll("(?<![A-Za-z])\\d+", "N"); // numbers, not the 2 of RE2
            return general.length() > 220 ? general.substring(0, 220) + "…" : general;
        }
    }

    /** Counters of the whole run, printed at the end (the CI log shows the time per set). */
    static final class Stats {
        final AtomicLong sets = new AtomicLong();
        final AtomicLong identities = new AtomicLong();
        final AtomicLong envoyRuns = new AtomicLong();
        final AtomicLong envoyNanos = new AtomicLong();
        final AtomicLong translateNanos = new AtomicLong();
        final AtomicLong rejectedSets = new AtomicLong();
        final Map<String, Long> rejections = new ConcurrentHashMap<>();

        String summary() {
            StringBuilder out = new StringBuilder(String.format(
                    "EnvoyAcceptsGeneratedPolicySetsTest: %d sets, %d identities; %d envoy --mode validate runs in %.1f s"
                            + " (%.2f s/run, %.3f s/set); translation %.1f s; %d sets rejected%n",
                    sets.get(),
                    identities.get(),
                    envoyRuns.get(),
                    envoyNanos.get() / 1e9,
                    envoyRuns.get() == 0 ? 0 : envoyNanos.get() / 1e9 / envoyRuns.get(),
                    sets.get() == 0 ? 0 : envoyNanos.get() / 1e9 / sets.get(),
                    translateNanos.get() / 1e9,
                    rejectedSets.get()));
            rejections.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(e -> out.append(String.format("  %5d  %s%n", e.getValue(), e.getKey())));
            return out.toString();
        }
    }
}
