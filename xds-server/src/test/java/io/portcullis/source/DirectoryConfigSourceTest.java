package io.portcullis.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.portcullis.crds.Egress;
import io.portcullis.testfixtures.EgressManifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The directory source's rule (see its class comment), checked through what it publishes: which
 * Egresses (and hosts) a snapshot holds, and which problems name which file.
 */
class DirectoryConfigSourceTest {

    private static final Duration SETTLE = Duration.ofSeconds(1);

    @TempDir
    Path dir;

    /**
     * Scans driven by hand on a clock the test moves, so each intermediate state of a save is
     * observed exactly, with no timing in the test.
     */
    @Nested
    class ScanByScan {

        private Instant now = Instant.parse("2026-01-01T00:00:00Z");
        private DirectoryConfigSource source;
        private SourceUpdate last;

        @BeforeEach
        void createSource() {
            source = new DirectoryConfigSource(dir, "fsm-system", SETTLE, () -> now);
        }

        /** One scan after moving the clock on; the update as it stands afterwards. */
        private SourceUpdate scanAfter(Duration elapsed) {
            now = now.plus(elapsed);
            source.scan().ifPresent(update -> last = update);
            return last;
        }

        private SourceUpdate settled() {
            scanAfter(Duration.ZERO);
            return scanAfter(SETTLE);
        }

        @Test
        void aScanOfManyFilesReadsThemInParallelWithTheSameRuleForEach() throws Exception {
            // Enough files for the parallel read; one of them cut mid-line, one not UTF-8.
            for (int i = 0; i < 200; i++) {
                write(String.format("p-%03d.yaml", i), egress("p" + i, "p" + i + ".com"));
            }
            String cut = egress("p7", "p7.com", "seven.com");
            write("p-007.yaml", cut.substring(0, cut.indexOf("seven.com") + 4));
            Files.write(dir.resolve("p-013.yaml"), new byte[] {'k', 'i', 'n', 'd', ':', ' ', (byte) 0xff, '\n'});

            assertThat(hosts(scanAfter(Duration.ZERO))).as("not settled yet").isEmpty();
            SourceUpdate update = scanAfter(SETTLE);

            Map<String, List<String>> hosts = hosts(update);
            assertThat(hosts).hasSize(198).doesNotContainKeys("p7", "p13");
            for (int i = 0; i < 200; i++) {
                if (i != 7 && i != 13) {
                    assertThat(hosts).containsEntry("p" + i, List.of("p" + i + ".com"));
                }
            }
            assertThat(update.problems())
                    .hasSize(2)
                    .anySatisfy(problem -> assertThat(problem).startsWith("p-007.yaml: does not end with a newline"))
                    .anySatisfy(problem ->
                            assertThat(problem).startsWith("p-013.yaml:").contains("UTF-8"));
        }

        @Test
        void aKeyDefinedTwiceIsTakenFromTheLaterDefinitionInNameOrderAndEachLaterOneIsReported() throws Exception {
            write("b.yaml", egress("x", "b.com"));
            write("c.yaml", egress("x", "c1.com") + "---\n" + egress("x", "c2.com") + "---\n" + egress("y", "y.com"));
            SourceUpdate update = settled();
            assertThat(hosts(update)).containsEntry("x", List.of("c2.com")).containsEntry("y", List.of("y.com"));
            assertThat(update.problems())
                    .containsExactly(
                            "c.yaml: Egress curl/x is also defined in b.yaml; the definition in c.yaml wins (files are "
                                    + "read in name order)",
                            "c.yaml: Egress curl/x is also defined in c.yaml; the definition in c.yaml wins (files are "
                                    + "read in name order)");
            assertSameAsAFreshRead(update);

            // Added later, but earlier in name order: it wins nothing.
            write("a.yaml", egress("x", "a.com"));
            update = settled();
            assertThat(hosts(update)).containsEntry("x", List.of("c2.com"));
            assertThat(update.problems())
                    .hasSize(3)
                    .first()
                    .asString()
                    .startsWith("b.yaml: Egress curl/x is also defined in a.yaml");
            assertSameAsAFreshRead(update);

            Files.delete(dir.resolve("c.yaml"));
            update = settled();
            assertThat(hosts(update)).containsOnlyKeys("x").containsEntry("x", List.of("b.com"));
            assertThat(update.problems())
                    .containsExactly("b.yaml: Egress curl/x is also defined in a.yaml; the "
                            + "definition in b.yaml wins (files are read in name order)");
            assertSameAsAFreshRead(update);

            write("b.yaml", egress("z", "z.com"));
            update = settled();
            assertThat(hosts(update))
                    .containsOnlyKeys("x", "z")
                    .containsEntry("x", List.of("a.com"))
                    .containsEntry("z", List.of("z.com"));
            assertThat(update.problems()).isEmpty();
            assertSameAsAFreshRead(update);
        }

        /** What the scans put together step by step is what reading the directory once, from nothing, gives. */
        private void assertSameAsAFreshRead(SourceUpdate update) throws Exception {
            SourceUpdate fresh = new DirectoryConfigSource(dir, "fsm-system", SETTLE, () -> now).readOnce();
            assertThat(update.problems()).containsExactlyElementsOf(fresh.problems());
            assertThat(update.snapshot()).isEqualTo(fresh.snapshot());
        }

        @Test
        void aChangedFileIsReadOnlyOnceItsStampHeldForTheSettleTime() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            assertThat(hosts(scanAfter(Duration.ZERO)))
                    .as("first scan: not settled yet")
                    .isEmpty();
            assertThat(hosts(scanAfter(SETTLE))).containsExactly(Map.entry("a", List.of("a.com")));

            write("a.yaml", egress("a", "bb.com"));
            assertThat(hosts(scanAfter(Duration.ZERO))).containsEntry("a", List.of("a.com"));
            assertThat(hosts(scanAfter(SETTLE.dividedBy(2)))).containsEntry("a", List.of("a.com"));
            assertThat(hosts(scanAfter(SETTLE.dividedBy(2)))).containsEntry("a", List.of("bb.com"));
        }

        @Test
        void aSlowWritersIntermediateStatesAreNeverApplied() throws Exception {
            String before = egress("a", "a.com", "b.com") + "---\n" + egress("b", "b.com");
            String after = egress("a", "a.com", "b.com", "c.com") + "---\n" + egress("b", "b.com", "c.com");
            write("a.yaml", before);
            assertThat(hosts(settled())).containsOnlyKeys("a", "b");

            Duration pause = SETTLE.dividedBy(3);
            for (String partial : List.of(
                    "",
                    egress("a", "a.com", "b.com", "c.com") + "---\n",
                    after.substring(0, after.lastIndexOf("c.com") + 4))) {
                write("a.yaml", partial);
                assertThat(hosts(scanAfter(pause)))
                        .as("while the file holds %s", partial)
                        .containsEntry("a", List.of("a.com", "b.com"))
                        .containsEntry("b", List.of("b.com"));
            }
            write("a.yaml", after);
            scanAfter(pause);
            assertThat(hosts(scanAfter(SETTLE)))
                    .containsEntry("a", List.of("a.com", "b.com", "c.com"))
                    .containsEntry("b", List.of("b.com", "c.com"));
        }

        @Test
        void aFileCutMidLineIsNotAppliedEvenOnceItSettles() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            settled();
            String full = egress("a", "a.com", "b.com");

            write("a.yaml", full.substring(0, full.indexOf("b.com") + 4)); // "- b.co": valid YAML, wrong host
            SourceUpdate update = settled();

            assertThat(hosts(update)).containsExactly(Map.entry("a", List.of("a.com")));
            assertThat(update.problems())
                    .containsExactly(
                            "a.yaml: does not end with a newline, so it may be "
                                    + "half-written: keeping the 1 resource of its last clean read until it does; end the file with a newline");
        }

        @Test
        void aFileThatBecomesEmptyKeepsItsResourcesUntilItIsDeleted() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            settled();

            for (String empty : List.of("", "  \n", "# nothing yet\n---\n")) {
                write("a.yaml", empty);
                SourceUpdate update = settled();
                assertThat(hosts(update))
                        .as("file holding '%s'", empty)
                        .containsExactly(Map.entry("a", List.of("a.com")));
                assertThat(update.problems())
                        .containsExactly("a.yaml: empty: keeping the 1 resource of its last clean "
                                + "read; delete the file to remove its resources");
            }

            Files.delete(dir.resolve("a.yaml"));
            assertThat(hosts(settled())).isEmpty();
            assertThat(last.problems()).isEmpty();
        }

        @Test
        void aFileGoneForLessThanTheSettleTimeIsNotWithdrawn() throws Exception {
            // Some editors save by renaming the file away and writing a new one.
            write("a.yaml", egress("a", "a.com"));
            settled();

            Files.move(dir.resolve("a.yaml"), dir.resolve("a.yaml~"));
            assertThat(hosts(scanAfter(SETTLE.dividedBy(2)))).containsOnlyKeys("a");
            write("a.yaml", egress("a", "a.com", "b.com"));
            assertThat(hosts(scanAfter(SETTLE.dividedBy(2)))).containsEntry("a", List.of("a.com"));
            assertThat(hosts(scanAfter(SETTLE))).containsEntry("a", List.of("a.com", "b.com"));
        }

        @Test
        void aNonUtf8FileKeepsItsLastGoodContentWhileADeleteElsewhereTakesEffect() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            write("b.yaml", egress("b", "b.com"));
            assertThat(hosts(settled())).containsOnlyKeys("a", "b");

            Files.write(
                    dir.resolve("a.yaml"),
                    ("# caf\u00e9\n" + egress("a", "evil.com")).getBytes(StandardCharsets.ISO_8859_1));
            Files.delete(dir.resolve("b.yaml"));
            SourceUpdate update = settled();

            assertThat(hosts(update)).containsExactly(Map.entry("a", List.of("a.com")));
            assertThat(update.problems())
                    .containsExactly(
                            "a.yaml: not valid UTF-8: byte 0xE9 at line 1, column 6 (byte offset 5). Manifests are UTF-8 text, "
                                    + "as kubectl requires: re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8) or remove "
                                    + "the character",
                            "a.yaml: keeping the 1 resource of its last clean read until the problems above are fixed");
        }

        @Test
        void aFileOverTheSizeLimitKeepsItsLastGoodContent() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            settled();

            write("a.yaml", egress("a", "b.com") + "# " + "x".repeat(2 * 1024 * 1024) + "\n");
            SourceUpdate update = settled();

            assertThat(hosts(update)).containsExactly(Map.entry("a", List.of("a.com")));
            assertThat(update.problems()).first().asString().startsWith("a.yaml: larger than 1048576 bytes");
        }

        @Test
        void aFileThatNeverStopsChangingIsReportedAndKeepsItsContent() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            settled();

            for (int i = 0; i < 25; i++) {
                write("a.yaml", egress("a", "a.com") + "#".repeat(i + 1) + "\n"); // sizes differ: stamps always do
                scanAfter(SETTLE.dividedBy(2));
            }

            assertThat(hosts(last)).containsExactly(Map.entry("a", List.of("a.com")));
            assertThat(last.problems())
                    .singleElement()
                    .asString()
                    .startsWith("a.yaml: has kept changing for over 10 s; what it contributed stays");
        }

        @Test
        void aScanOfTheFilesAWatchNamedAppliesThemOnceSettledAndLeavesTheOthersUntilAFullScan() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            write("b.yaml", egress("b", "b.com"));
            settled();
            write("a.yaml", egress("a", "a.com", "a2.com"));
            write("b.yaml", egress("b", "b.com", "b2.com"));

            now = now.plus(Duration.ZERO);
            source.scan(java.util.Set.of(dir.resolve("a.yaml"))).ifPresent(update -> last = update);
            assertThat(hosts(last).get("a")).as("not yet settled").containsExactly("a.com");
            now = now.plus(SETTLE);
            // a.yaml is settling, so it is looked at without being named again; b.yaml was not named
            source.scan(java.util.Set.of()).ifPresent(update -> last = update);
            assertThat(hosts(last).get("a")).containsExactly("a.com", "a2.com");
            assertThat(hosts(last).get("b")).containsExactly("b.com");

            assertThat(settled().snapshot().egresses()).hasSize(2);
            assertThat(hosts(last).get("b")).as("the full scan found it").containsExactly("b.com", "b2.com");
        }
    }

    /** The watching source, as {@code serve} runs it; every update it publishes is recorded. */
    @Nested
    class Watching {

        private final List<SourceUpdate> updates = new CopyOnWriteArrayList<>();
        private DirectoryConfigSource source;

        @AfterEach
        void stop() {
            source.close();
        }

        private void start() throws Exception {
            source = new DirectoryConfigSource(dir, "fsm-system");
            source.start(updates::add);
        }

        private SourceUpdate latest() {
            return updates.getLast();
        }

        @Test
        void aNonUtf8FileDoesNotBlockTheDeleteOfAnotherPolicysFile() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            write("b.yaml", egress("b", "b.com"));
            start();
            assertThat(hosts(latest())).containsOnlyKeys("a", "b");

            Files.write(
                    dir.resolve("a.yaml"),
                    ("# caf\u00e9\n" + egress("a", "evil.com")).getBytes(StandardCharsets.ISO_8859_1));
            Files.delete(dir.resolve("b.yaml"));

            await().atMost(Duration.ofSeconds(20)).until(() -> !hosts(latest()).containsKey("b"));
            assertThat(hosts(latest())).containsExactly(Map.entry("a", List.of("a.com")));
            assertThat(latest().problems()).first().asString().startsWith("a.yaml: not valid UTF-8");
        }

        @Test
        void truncatingThenSlowlyWritingAFileNeverWithdrawsItsPolicy() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            start();

            write("a.yaml", ""); // the editor truncates ...
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> latest().problems().stream().anyMatch(p -> p.startsWith("a.yaml: empty: keeping")));
            write("a.yaml", egress("a", "a.com", "b.com")); // ... and writes, much later
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> hosts(latest()).get("a").size() == 2);

            assertThat(updates).allSatisfy(update -> assertThat(hosts(update)).containsKey("a"));
            assertThat(latest().problems()).isEmpty();
        }

        @Test
        void truncatingThenWritingAtOnceNeverWithdrawsItsPolicy() throws Exception {
            write("a.yaml", egress("a", "a.com"));
            start();

            for (int i = 1; i <= 3; i++) {
                write("a.yaml", "");
                write("a.yaml", egress("a", "a.com", "edit" + i + ".com"));
                String host = "edit" + i + ".com";
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> hosts(latest()).get("a").contains(host));
            }

            assertThat(updates).allSatisfy(update -> assertThat(hosts(update)).containsKey("a"));
        }

        @Test
        void aChangeNoWatchEventNamesIsPickedUpByTheFullRescan() throws Exception {
            // A symlinked manifest whose target changes: inotify on the directory sees nothing.
            Path elsewhere = Files.createTempDirectory(dir.getParent(), "target-");
            Files.writeString(elsewhere.resolve("real.yaml"), egress("a", "a.com"));
            Files.createSymbolicLink(dir.resolve("a.yaml"), elsewhere.resolve("real.yaml"));
            start();
            assertThat(hosts(latest())).containsEntry("a", List.of("a.com"));

            Files.writeString(elsewhere.resolve("real.yaml"), egress("a", "a.com", "b.com"));

            await().atMost(DirectoryConfigSource.FULL_RESCAN.multipliedBy(3))
                    .until(() -> hosts(latest()).get("a").size() == 2);
        }
    }

    /**
     * Truncates, then writes: not atomic, like an editor. Successive writes in these tests differ in
     * size, because two writes within one kernel clock tick (a few ms) can leave the same times.
     */
    private void write(String name, String text) throws Exception {
        Files.writeString(dir.resolve(name), text);
    }

    /** Egress name to hosts, in name order; empty if there is no update yet. */
    private static Map<String, List<String>> hosts(SourceUpdate update) {
        Map<String, List<String>> hosts = new TreeMap<>();
        Optional.ofNullable(update)
                .ifPresent(u -> u.snapshot()
                        .egresses()
                        .forEach((Egress e) ->
                                hosts.put(e.getMetadata().getName(), e.getSpec().hosts())));
        return hosts;
    }

    static String egress(String name, String... hosts) {
        return EgressManifest.named(name).host(hosts).port(80, "http").yaml();
    }
}
