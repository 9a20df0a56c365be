package io.portcullis.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.ManifestWriter;
import io.portcullis.crds.MeshConfig;
import io.portcullis.crds.Namespaces;
import io.portcullis.input.ResourceKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.statistics.Statistics;

/**
 * Hostile bytes in one file of a directory holding the egress guide's manifests: random mutations of
 * the guide's files, invalid UTF-8, anchor/alias bombs, deep nesting, a wrong type in any field, and
 * documents over the size limit. Whatever the bytes, the reader and the directory source never
 * throw, a file that does not read cleanly is reported by name and keeps its last clean content, the
 * other files' resources stay exactly as they were, and nothing appears that neither the file's old
 * nor its new content holds. Seeded: the same cases every run.
 */
class HostileManifestPropertyTest {

    /** Files of the guide that define distinct resources; the directory holds these. */
    private static final List<String> IN_DIRECTORY =
            List.of("02-https-egress.yaml", "03-tcp-egress.yaml", "04-http-route-group-and-egress.yaml");

    private static final List<String> GUIDE = List.of(
            "01-http-egress.yaml",
            "02-https-egress.yaml",
            "03-tcp-egress.yaml",
            "04-http-route-group-and-egress.yaml",
            "05-http-route-group-updated.yaml");
    /** The hostile bytes replace one of the guide's files, or arrive as a new file. */
    private static final List<String> VICTIMS =
            Stream.concat(IN_DIRECTORY.stream(), Stream.of("zz-new.yaml")).toList();

    private static final Duration SETTLE = Duration.ofSeconds(1);

    private static final ManifestReader READER = new ManifestReader();
    private static final ManifestWriter WRITER = new ManifestWriter();
    private static final YAMLMapper YAML = new YAMLMapper();

    @Property(tries = 300, seed = "20261126", edgeCases = EdgeCasesMode.NONE, shrinking = ShrinkingMode.BOUNDED)
    void hostileBytesInOneFileNeverBreakTheOthers(
            @ForAll("victims") String victim, @ForAll("hostileBytes") byte[] bytes) throws IOException {
        checkDirectoryWith(victim, bytes);
    }

    @Property(tries = 6, seed = "20261126", edgeCases = EdgeCasesMode.NONE, shrinking = ShrinkingMode.OFF)
    void hugeDocumentsNeverBreakTheOthers(@ForAll("victims") String victim, @ForAll("hugeBytes") byte[] bytes)
            throws IOException {
        checkDirectoryWith(victim, bytes);
    }

    private void checkDirectoryWith(String victim, byte[] bytes) throws IOException {
        Path dir = Files.createTempDirectory("portcullis-hostile-");
        try {
            for (String name : IN_DIRECTORY) {
                Files.write(dir.resolve(name), guide(name));
            }
            Instant[] now = {Instant.parse("2026-01-01T00:00:00Z")};
            DirectoryConfigSource source =
                    new DirectoryConfigSource(dir, MeshConfig.DEFAULT_NAMESPACE, SETTLE, () -> now[0]);
            SourceUpdate baseline = settle(source, now);
            assertThat(baseline.problems()).isEmpty();

            // A new inode, so the change is seen even if size and times happen to match the old file.
            Path temp = Files.write(dir.resolve(".incoming"), bytes);
            Files.move(temp, dir.resolve(victim), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            SourceUpdate after = settle(source, now);

            ManifestSet direct =
                    READER.readUtf8(Arrays.copyOf(bytes, Math.min(bytes.length, ManifestReader.MAX_BYTES + 1)), victim);
            direct.resources().forEach(resource -> Namespaces.fillIn(resource, MeshConfig.DEFAULT_NAMESPACE));
            Map<ResourceKey, String> served = canonical(
                    Stream.concat(after.snapshot().egresses().stream(), after.snapshot().routeGroups().stream())
                            .map(HasMetadata.class::cast)
                            .toList());
            Map<ResourceKey, String> before = IN_DIRECTORY.contains(victim) ? read(victim) : Map.of();
            Map<ResourceKey, String> fresh = canonical(direct.resources());

            Statistics.label("the changed file").collect(direct.hasProblems() ? "has problems" : "reads cleanly");
            assertThat(after.problems())
                    .as("a reader failure is a bug, not a problem of the file")
                    .noneMatch(p -> p.contains("unexpected"));
            Set<ResourceKey> victimKeys = new HashSet<>(before.keySet());
            victimKeys.addAll(fresh.keySet());
            for (String other : IN_DIRECTORY) {
                if (!other.equals(victim)) {
                    read(other).forEach((key, yaml) -> {
                        if (!victimKeys.contains(key)) {
                            assertThat(served).as("%s of %s", key, other).containsEntry(key, yaml);
                        }
                    });
                }
            }
            if (direct.hasProblems()) {
                assertThat(after.problems()).as("the file is named").anyMatch(p -> p.startsWith(victim + ": "));
                assertThat(served).as("its last clean content is kept").containsAllEntriesOf(before);
            }
            served.forEach((key, yaml) -> assertThat(yaml)
                    .as("%s comes from the old or the new content", key)
                    .isIn(baselineYamlOf(key), fresh.get(key)));
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String baselineYamlOf(ResourceKey key) {
        return IN_DIRECTORY.stream()
                .map(HostileManifestPropertyTest::read)
                .map(m -> m.get(key))
                .filter(java.util.Objects::nonNull)
                .findFirst()
                .orElse(null);
    }

    private static SourceUpdate settle(DirectoryConfigSource source, Instant[] now) {
        List<SourceUpdate> updates = new ArrayList<>();
        source.scan().ifPresent(updates::add);
        now[0] = now[0].plus(SETTLE);
        source.scan().ifPresent(updates::add);
        assertThat(updates).as("an update once the file settled").isNotEmpty();
        return updates.getLast();
    }

    private static Map<ResourceKey, String> read(String guideFile) {
        ManifestSet set = READER.readUtf8(guide(guideFile), guideFile);
        set.resources().forEach(resource -> Namespaces.fillIn(resource, MeshConfig.DEFAULT_NAMESPACE));
        return canonical(set.resources());
    }

    private static Map<ResourceKey, String> canonical(List<HasMetadata> resources) {
        Map<ResourceKey, String> byKey = new LinkedHashMap<>();
        resources.forEach(r -> byKey.put(ResourceKey.of(r), WRITER.write(r)));
        return byKey;
    }

    private static byte[] guide(String name) {
        try (InputStream in = HostileManifestPropertyTest.class.getResourceAsStream("/guide/" + name)) {
            assertThat(in).as("guide manifest %s on the test classpath", name).isNotNull();
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ generators

    @Provide
    Arbitrary<String> victims() {
        return Arbitraries.of(VICTIMS);
    }

    @Provide
    Arbitrary<byte[]> hostileBytes() {
        return Arbitraries.oneOf(mutatedGuide(), invalidUtf8(), aliasBombs(), deepNesting(), wrongTypes());
    }

    private static Arbitrary<byte[]> guideFile() {
        return Arbitraries.of(GUIDE).map(HostileManifestPropertyTest::guide);
    }

    /** Bytes that make YAML and UTF-8 go wrong in interesting ways, and any byte at all. */
    private static Arbitrary<Byte> nastyByte() {
        return Arbitraries.oneOf(
                Arbitraries.bytes(),
                Arbitraries.of(bytes("\n\r\t :-[]{}&*!|>#'\"%@`,?\0")),
                Arbitraries.of((byte) 0xE9, (byte) 0xFF, (byte) 0xC0, (byte) 0x80, (byte) 0xED, (byte) 0xEF));
    }

    private static Byte[] bytes(String chars) {
        byte[] raw = chars.getBytes(StandardCharsets.ISO_8859_1);
        Byte[] boxed = new Byte[raw.length];
        for (int i = 0; i < raw.length; i++) {
            boxed[i] = raw[i];
        }
        return boxed;
    }

    /** One edit of a byte array; positions are fractions of its length, so they fit any file. */
    private interface Mutation {
        byte[] apply(byte[] in);
    }

    private static int at(double fraction, int length) {
        return Math.min(length, (int) (fraction * (length + 1)));
    }

    private static Arbitrary<Mutation> mutation() {
        Arbitrary<Double> where = Arbitraries.doubles().between(0, 1);
        Arbitrary<Mutation> flip = Combinators.combine(where, nastyByte()).as((w, b) -> in -> {
            byte[] out = in.clone();
            if (out.length > 0) {
                out[Math.min(out.length - 1, at(w, out.length))] = b;
            }
            return out;
        });
        Arbitrary<Mutation> insert = Combinators.combine(
                        where, nastyByte().list().ofMinSize(1).ofMaxSize(8))
                .as((w, inserted) -> in -> splice(in, at(w, in.length), 0, inserted));
        Arbitrary<Mutation> delete = Combinators.combine(
                        where, Arbitraries.integers().between(1, 40))
                .as((w, n) -> in -> splice(in, at(w, in.length), n, List.of()));
        Arbitrary<Mutation> truncate = where.map(w -> in -> Arrays.copyOf(in, at(w, in.length)));
        Arbitrary<Mutation> duplicate = Combinators.combine(
                        where, Arbitraries.integers().between(1, 80))
                .as((w, n) -> in -> {
                    int from = at(w, in.length);
                    byte[] copy = Arrays.copyOfRange(in, from, Math.min(in.length, from + n));
                    List<Byte> boxed = new ArrayList<>();
                    for (byte b : copy) {
                        boxed.add(b);
                    }
                    return splice(in, from, 0, boxed);
                });
        return Arbitraries.oneOf(flip, insert, delete, truncate, duplicate);
    }

    private static byte[] splice(byte[] in, int at, int remove, List<Byte> insert) {
        int end = Math.min(in.length, at + remove);
        byte[] out = new byte[in.length - (end - at) + insert.size()];
        System.arraycopy(in, 0, out, 0, at);
        for (int i = 0; i < insert.size(); i++) {
            out[at + i] = insert.get(i);
        }
        System.arraycopy(in, end, out, at + insert.size(), in.length - end);
        return out;
    }

    private static Arbitrary<byte[]> mutatedGuide() {
        return Combinators.combine(guideFile(), mutation().list().ofMinSize(1).ofMaxSize(6))
                .as((file, edits) -> {
                    byte[] bytes = file;
                    for (Mutation edit : edits) {
                        bytes = edit.apply(bytes);
                    }
                    return bytes;
                });
    }

    private static Arbitrary<byte[]> invalidUtf8() {
        Arbitrary<byte[]> sequence = Arbitraries.of(
                new byte[] {(byte) 0xE9},
                new byte[] {(byte) 0xC3, 0x28},
                new byte[] {(byte) 0x80},
                new byte[] {(byte) 0xC0, (byte) 0xAF},
                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
                new byte[] {(byte) 0xFF, (byte) 0xFE},
                new byte[] {(byte) 0xE2, (byte) 0x82});
        return Combinators.combine(guideFile(), sequence, Arbitraries.doubles().between(0, 1))
                .as((file, bad, w) -> {
                    List<Byte> boxed = new ArrayList<>();
                    for (byte b : bad) {
                        boxed.add(b);
                    }
                    return splice(file, at(w, file.length), 0, boxed);
                });
    }

    private static Arbitrary<byte[]> aliasBombs() {
        Arbitrary<String> bomb = Combinators.combine(
                        Arbitraries.integers().between(2, 12),
                        Arbitraries.integers().between(2, 10))
                .as((depth, breadth) -> {
                    StringBuilder yaml = new StringBuilder("l0: &l0 [lol, lol]\n");
                    for (int level = 1; level <= depth; level++) {
                        yaml.append("l")
                                .append(level)
                                .append(": &l")
                                .append(level)
                                .append(" [")
                                .append(String.join(", ", Collections.nCopies(breadth, "*l" + (level - 1))))
                                .append("]\n");
                    }
                    return yaml.toString();
                });
        Arbitrary<String> placed = Combinators.combine(
                        guideFile(), bomb, Arbitraries.integers().between(0, 2))
                .as((file, b, how) -> {
                    String guide = new String(file, StandardCharsets.UTF_8);
                    return switch (how) {
                        case 0 -> b;
                        case 1 -> guide + "---\n" + b;
                        default ->
                            guide.replaceFirst("(?m)^spec:\\n", "spec:\n  bomb:\n" + b.indent(4)); // inside a resource
                    };
                });
        Arbitrary<String> reused = guideFile()
                .map(file -> new String(file, StandardCharsets.UTF_8)
                        .replaceFirst("name: (\\S+)", "name: &n $1\n  labels: {copy: *n}"));
        return Arbitraries.oneOf(placed, reused).map(s -> s.getBytes(StandardCharsets.UTF_8));
    }

    private static Arbitrary<byte[]> deepNesting() {
        return Combinators.combine(
                        guideFile(),
                        Arbitraries.integers().between(30, 3000),
                        Arbitraries.integers().between(0, 2))
                .as((file, depth, style) -> {
                    String nested = switch (style) {
                        case 0 -> "deep: " + "[".repeat(depth) + "]".repeat(depth) + "\n";
                        case 1 -> "deep: " + "{a: ".repeat(depth) + "1" + "}".repeat(depth) + "\n";
                        default -> {
                            StringBuilder block = new StringBuilder();
                            for (int i = 0; i < Math.min(depth, 400); i++) {
                                block.append(" ".repeat(i)).append("a:\n");
                            }
                            yield block.toString();
                        }
                    };
                    return (new String(file, StandardCharsets.UTF_8) + "---\n" + nested)
                            .getBytes(StandardCharsets.UTF_8);
                });
    }

    /** One field anywhere in a guide document (metadata, spec, a list item) given a value of the wrong type. */
    private static Arbitrary<byte[]> wrongTypes() {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        Arbitrary<JsonNode> wrong = Arbitraries.of(
                nodes.numberNode(42),
                nodes.numberNode(-1),
                nodes.numberNode(3.5),
                nodes.numberNode(new java.math.BigInteger("99999999999999999999999")),
                nodes.booleanNode(true),
                nodes.nullNode(),
                nodes.textNode(""),
                nodes.textNode("\u0000"),
                nodes.textNode("x".repeat(300)),
                nodes.arrayNode(),
                nodes.objectNode(),
                nodes.arrayNode().add(1).add("a"),
                nodes.objectNode().set("k", nodes.arrayNode().add(1)));
        return Combinators.combine(guideFile(), Arbitraries.integers().between(0, 10_000), wrong)
                .as((file, pick, value) -> {
                    try {
                        List<JsonNode> docs = YAML.readerFor(JsonNode.class)
                                .<JsonNode>readValues(file)
                                .readAll();
                        List<Runnable> edits = new ArrayList<>();
                        for (JsonNode doc : docs) {
                            collectEdits(doc, value, edits);
                        }
                        edits.get(pick % edits.size()).run();
                        StringBuilder out = new StringBuilder();
                        for (JsonNode doc : docs) {
                            out.append("---\n")
                                    .append(YAML.writeValueAsString(doc).replaceFirst("^---\\n", ""));
                        }
                        return out.toString().getBytes(StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    private static void collectEdits(JsonNode node, JsonNode value, List<Runnable> edits) {
        if (node instanceof ObjectNode object) {
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                edits.add(() -> object.set(name, value.deepCopy()));
                collectEdits(object.get(name), value, edits);
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                int index = i;
                edits.add(() -> array.set(index, value.deepCopy()));
                collectEdits(array.get(i), value, edits);
            }
        }
    }

    @Provide
    Arbitrary<byte[]> hugeBytes() {
        // Just over the limit (refused), and just under it (read: a long but valid manifest).
        Arbitrary<Integer> overOrUnder = Arbitraries.oneOf(
                Arbitraries.integers().between(-4096, -200),
                Arbitraries.integers().between(1, 4096));
        return Combinators.combine(guideFile(), overOrUnder, Arbitraries.of(true, false))
                .as((file, delta, asComment) -> {
                    String guide = new String(file, StandardCharsets.UTF_8);
                    String frame = asComment ? "# \n" : "---\nkind: ConfigMap\napiVersion: v1\ndata: {k: \"\"}\n";
                    int room = Math.max(0, ManifestReader.MAX_BYTES + delta - guide.length() - frame.length());
                    String padding = asComment
                            ? "# " + "x".repeat(room) + "\n"
                            : "---\nkind: ConfigMap\napiVersion: v1\ndata: {k: \"" + "x".repeat(room) + "\"}\n";
                    return (guide + padding).getBytes(StandardCharsets.UTF_8);
                });
    }
}
