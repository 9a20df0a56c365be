package io.portcullis.crds;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads kubectl-style YAML: one or more documents separated by {@code ---} lines (a line starting
 * with {@code ---} followed only by blanks or a {@code #} comment, exactly as kubectl splits),
 * empty documents skipped, {@code kind: List} documents expanded into their {@code items}.
 *
 * <p>Kinds read: {@code policy.flomesh.io/v1alpha1 Egress}, {@code specs.smi-spec.io/v1alpha4
 * HTTPRouteGroup}, {@code config.flomesh.io/v1alpha3 MeshConfig}, {@code v1 Namespace} (for its
 * {@code portcullis.io/egress-mode} annotation; other fields kept). Documents of other kinds (a
 * Deployment, a Service, ...) are not errors: they are skipped and listed in {@link
 * ManifestSet#ignored()}.
 *
 * <p>Each document is read on its own: one bad document becomes a {@link ManifestProblem} and
 * never prevents the other documents of the same text from loading. Problems: malformed YAML
 * (with the line and column in the whole text), a missing or malformed {@code metadata.name} /
 * {@code metadata.namespace}, a known kind with another apiVersion, a missing {@code spec} for
 * Egress/HTTPRouteGroup, values of the wrong type, and unknown fields in Egress/HTTPRouteGroup
 * (MeshConfig keeps unknown fields instead, as FSM's MeshConfig has many we do not model).
 *
 * <p>Hostile or broken text is a problem, never an exception. Deliberate limits, each reported with
 * its fix: text must be UTF-8 (bytes are decoded strictly, the first bad byte is named by line and
 * column) and at most {@link #MAX_BYTES}; mappings and lists nest at most {@link #MAX_NESTING_DEPTH}
 * deep; YAML aliases ({@code *name}) are refused, because the YAML parser reads an alias as the
 * plain text {@code name}, not the value anchored as {@code &name} (a silently wrong value), and
 * because aliases are how "billion laughs" documents blow up.
 *
 * <p>{@code metadata.namespace} is left null when the manifest has none: the caller decides the
 * default (as {@code kubectl apply -n} does). Values are otherwise kept raw (no protocol, CIDR or
 * regex validation here). A server-written {@code status} is dropped.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ManifestReader {

    /**
     * The most text read from one manifest file or stream, in bytes. One MiB holds thousands of
     * policies; Kubernetes itself refuses any object over 1.5 MiB. Anything larger is a mistake (or
     * an attack on the control plane's memory): it is refused, not parsed.
     */
    public static final int MAX_BYTES = 1024 * 1024;

    /**
     * The deepest nesting of mappings and lists read. The deepest field Portcullis reads is about six
     * levels down (HTTPRouteGroup {@code spec.matches[].headers[]}); FSM's MeshConfig a few more.
     */
    public static final int MAX_NESTING_DEPTH = 64;

    public ManifestReader() {}

    /**
     * Reads a file; the origin in problems is the path as given. At most {@link #MAX_BYTES} + 1 bytes
     * are read, so a huge file costs no memory.
     */
    public ManifestSet read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return readUtf8(in.readNBytes(MAX_BYTES + 1), file.toString());
        }
    }

    /**
     * Reads manifest bytes, which must be UTF-8: a byte sequence that is not UTF-8 is a problem of
     * the whole text (never silently replaced, which could change a name), and so is text over
     * {@link #MAX_BYTES}.
     */
    public ManifestSet readUtf8(byte[] bytes, String origin) {
        Collector out = new Collector(origin, false);
        readUtf8(bytes, out);
        return out.result();
    }

    /**
     * Reads manifest bytes as {@link #readUtf8} does, for a command that stores what it reads ({@code portcullis
     * apply}): the same problems, but a document in {@link PlainForm} is not bound to the fabric8 model, whose first
     * binding in a fresh JVM costs more than all the rest of such a command.
     */
    public ManifestObject.Objects readObjects(byte[] bytes, String origin) {
        Collector out = new Collector(origin, true);
        readUtf8(bytes, out);
        return out.objects();
    }

    /** Like {@link #readObjects(byte[], String)} for text. */
    public ManifestObject.Objects readObjects(String yamlText, String origin) {
        Collector out = new Collector(origin, true);
        read(yamlText, out);
        return out.objects();
    }

    private void readUtf8(byte[] bytes, Collector out) {
        if (bytes.length > MAX_BYTES) {
            out.problem(ManifestProblem.WHOLE_TEXT, null, tooLarge());
            return;
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer text = CharBuffer.allocate(bytes.length); // UTF-8 never decodes to more chars than bytes
        CoderResult result = decoder.decode(in, text, true);
        if (result.isError()) {
            out.problem(ManifestProblem.WHOLE_TEXT, null, notUtf8(bytes, in.position()));
            return;
        }
        decoder.flush(text);
        read(text.flip().toString(), out);
    }

    private static String tooLarge() {
        return "larger than "
                + MAX_BYTES
                + " bytes (1 MiB), the most Portcullis reads from one manifest file or stream: split it"
                + " into several files";
    }

    private static String notUtf8(byte[] bytes, int offset) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < offset; i++) {
            if (bytes[i] == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return String.format(
                "not valid UTF-8: byte 0x%02X at line %d, column %d (byte offset %d). Manifests are UTF-8"
                        + " text, as kubectl requires: re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
                        + " or remove the character",
                bytes[offset] & 0xff, line, offset - lineStart + 1, offset);
    }

    /**
     * Reads every document of {@code yamlText}.
     *
     * @param yamlText kubectl-style single- or multi-document YAML (or JSON)
     * @param origin label used in problems, e.g. the file name
     */
    public ManifestSet read(String yamlText, String origin) {
        Collector out = new Collector(origin, false);
        read(yamlText, out);
        return out.result();
    }

    private void read(String yamlText, Collector out) {
        if (yamlText == null) {
            return;
        }
        if (yamlText.length() > MAX_BYTES || yamlText.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            out.problem(ManifestProblem.WHOLE_TEXT, null, tooLarge());
            return;
        }
        String text = yamlText.startsWith("\uFEFF") ? yamlText.substring(1) : yamlText;
        for (Chunk chunk : split(text)) {
            readChunk(chunk, out);
        }
    }

    // ---------------------------------------------------------------- splitting & parsing

    /** A piece of text between separators; {@code firstLine} is its 1-based line in the input. */
    private record Chunk(String text, int firstLine) {}

    private static List<Chunk> split(String text) {
        List<Chunk> chunks = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        StringBuilder current = new StringBuilder();
        int start = 1;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (isSeparator(line)) {
                chunks.add(new Chunk(current.toString(), start));
                current.setLength(0);
                start = i + 2;
            } else {
                current.append(line).append('\n');
            }
        }
        chunks.add(new Chunk(current.toString(), start));
        return chunks;
    }

    /** kubectl's rule (k8s.io/apimachinery yaml.Reader): "---" then nothing but blanks/comment. */
    private static boolean isSeparator(String line) {
        if (!line.startsWith("---")) {
            return false;
        }
        String rest = line.substring(3).strip();
        return rest.isEmpty() || rest.startsWith("#");
    }

    private void readChunk(Chunk chunk, Collector out) {
        if (chunk.text().isBlank()) {
            return;
        }
        String alias = alias(chunk);
        if (alias != null) {
            out.problem(out.nextIndex(), null, alias);
            return;
        }
        // A chunk normally holds one document; parse errors are reported for it and only it.
        List<JsonNode> docs = new ArrayList<>();
        String parseError = null;
        try (MappingIterator<JsonNode> it =
                Yaml.LENIENT.readerFor(JsonNode.class).readValues(chunk.text())) {
            while (it.hasNextValue()) {
                docs.add(it.nextValue());
            }
        } catch (JsonProcessingException e) {
            parseError = malformed(e, chunk);
        } catch (IOException | RuntimeException e) {
            // MappingIterator wraps parse errors in RuntimeJsonMappingException
            parseError = e.getCause() instanceof JsonProcessingException j
                    ? malformed(j, chunk)
                    : "malformed YAML: " + e.getMessage();
        }
        for (JsonNode doc : docs) {
            if (doc == null || doc.isNull() || doc.isMissingNode()) {
                continue; // empty document, e.g. only comments
            }
            readDocument(doc, out.nextIndex(), "", out);
        }
        if (parseError != null) {
            out.problem(out.nextIndex(), null, parseError);
        }
    }

    /**
     * The first alias of the chunk, as a problem message, or null. Parse errors are left to the real
     * read, which reports them with their position. An anchor alone is harmless: its value reads as
     * written.
     */
    private static String alias(Chunk chunk) {
        if (chunk.text().indexOf('*') < 0) {
            // An alias is written *name: without a '*' there is none, and the second full scan of the
            // text (a third of reading a directory of policies) is skipped.
            return null;
        }
        try (JsonParser parser = Yaml.LENIENT.getFactory().createParser(chunk.text())) {
            YAMLParser yaml = (YAMLParser) parser;
            while (yaml.nextToken() != null) {
                if (yaml.isCurrentAlias()) {
                    String name = yaml.getText();
                    return "YAML alias *"
                            + name
                            + " at line "
                            + (chunk.firstLine() + yaml.currentTokenLocation().getLineNr() - 1)
                            + ": aliases are not supported (the YAML reader would take *"
                            + name
                            + " for the text '"
                            + name
                            + "', not the value anchored as &"
                            + name
                            + "); write the value out in full where it is used";
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    private static String malformed(JsonProcessingException e, Chunk chunk) {
        if (e instanceof StreamConstraintsException) {
            JsonLocation loc = e.getLocation();
            return "nested more than "
                    + MAX_NESTING_DEPTH
                    + " levels deep"
                    + (loc != null && loc.getLineNr() > 0
                            ? " at line " + (chunk.firstLine() + loc.getLineNr() - 1)
                            : "")
                    + ": no Egress, HTTPRouteGroup or MeshConfig field is that deep; remove the extra"
                    + " nesting (often a run of unclosed [ or {)";
        }
        Throwable cause = e.getCause();
        if (cause instanceof MarkedYAMLException y && y.getProblemMark() != null) {
            Mark mark = y.getProblemMark();
            String context = y.getContext() == null ? "" : " (" + y.getContext() + ")";
            return "malformed YAML at line "
                    + (chunk.firstLine() + mark.getLine())
                    + ", column "
                    + (mark.getColumn() + 1)
                    + ": "
                    + y.getProblem()
                    + context
                    + ". Fix the YAML syntax there: indentation, a missing ': ' after a key, a tab used"
                    + " for indentation, or an unclosed quote or bracket";
        }
        JsonLocation loc = e.getLocation();
        String where =
                loc != null && loc.getLineNr() > 0 ? " at line " + (chunk.firstLine() + loc.getLineNr() - 1) : "";
        String original = e.getOriginalMessage();
        if (original != null && original.startsWith("Duplicate field")) {
            return "malformed YAML"
                    + where
                    + ": "
                    + original.replace("Duplicate field", "the key")
                    + " appears twice in the same mapping; keep only one";
        }
        return "malformed YAML" + where + ": " + original;
    }

    // ---------------------------------------------------------------- one document

    private void readDocument(JsonNode doc, int index, String item, Collector out) {
        if (!doc.isObject()) {
            out.problem(
                    index,
                    null,
                    item
                            + "the document is "
                            + HttpHeadersDeserializer.describe(doc)
                            + ", not a Kubernetes object: expected a mapping with apiVersion, kind and metadata");
            return;
        }
        JsonNode kindNode = doc.get("kind");
        JsonNode apiVersionNode = doc.get("apiVersion");
        if (kindNode == null || kindNode.isNull() || kindNode.asText().isBlank()) {
            out.problem(
                    index,
                    null,
                    item
                            + "kind is missing: every manifest needs a kind and an apiVersion, e.g. kind: Egress"
                            + " and apiVersion: policy.flomesh.io/v1alpha1");
            return;
        }
        if (!kindNode.isTextual()) {
            out.problem(index, null, item + "kind must be a string, e.g. kind: Egress");
            return;
        }
        String kind = kindNode.asText();
        String apiVersion = apiVersionNode != null && apiVersionNode.isTextual() ? apiVersionNode.asText() : null;

        if ("List".equals(kind) && doc.has("items")) {
            JsonNode items = doc.get("items");
            if (items.isNull()) {
                return;
            }
            if (!items.isArray()) {
                out.problem(index, "List", item + "items must be a list of manifests");
                return;
            }
            for (int i = 0; i < items.size(); i++) {
                readDocument(items.get(i), index, item + "items[" + i + "]: ", out);
            }
            return;
        }

        Optional<KnownKind> maybeKnown = KnownKind.byKind(kind);
        String name = textOrNull(doc.path("metadata").get("name"));
        String namespace = textOrNull(doc.path("metadata").get("namespace"));
        if (maybeKnown.isEmpty()) {
            String suggestion = Conversion.closest(
                    kind, KnownKind.ALL.stream().map(KnownKind::kind).toList());
            String label = label(kind, namespace, name);
            if (suggestion != null) {
                out.problem(
                        index,
                        label,
                        item + "unknown kind '" + kind + "': did you mean '" + suggestion + "'? Kinds are"
                                + " case-sensitive; Portcullis reads " + KnownKind.summary());
            } else {
                out.ignored(
                        index,
                        label,
                        item + "ignored: " + (apiVersion == null ? "" : apiVersion + " ") + kind
                                + " is not a kind Portcullis reads (it reads " + KnownKind.summary() + ")");
            }
            return;
        }
        KnownKind known = maybeKnown.get();
        String label = label(kind, namespace, name);
        List<String> messages = new ArrayList<>();

        if (apiVersion == null) {
            messages.add(
                    apiVersionNode == null || apiVersionNode.isNull()
                            ? "apiVersion is missing: add apiVersion: " + known.apiVersion()
                            : "apiVersion must be a string: apiVersion: " + known.apiVersion());
        } else if (!apiVersion.equals(known.apiVersion())) {
            String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
            if (group.equals(known.group())) {
                messages.add("apiVersion " + apiVersion + " is not supported for " + kind + ": Portcullis reads "
                        + kind + " only as " + known.apiVersion() + "; change apiVersion to "
                        + known.apiVersion() + " (converting fields if that version differs)");
            } else {
                messages.add("apiVersion " + apiVersion + " is not the API group of " + kind + ": Portcullis reads "
                        + kind + " only as " + known.apiVersion() + "; change apiVersion to "
                        + known.apiVersion());
            }
        }
        checkMetadata(doc.get("metadata"), kind, messages);
        JsonNode spec = doc.get("spec");
        if (known.specRequired() && (spec == null || spec.isNull())) {
            messages.add("spec is missing: " + known.specHint());
        }
        if (messages.isEmpty() && out.keepsPlainForm()) {
            Optional<ObjectNode> plain = PlainForm.of(doc, known);
            if (plain.isPresent()) {
                out.plain(known, plain.get());
                return;
            }
        }
        HasMetadata resource = null;
        if (messages.isEmpty()) {
            try {
                resource = Conversion.toResource(doc, known.type());
            } catch (Conversion.InvalidResourceException e) {
                messages.addAll(e.messages());
            }
        }
        if (!messages.isEmpty()) {
            for (String m : messages) {
                out.problem(index, label, item + m);
            }
            return;
        }
        out.resource(known, resource);
    }

    private static void checkMetadata(JsonNode metadata, String kind, List<String> messages) {
        if (metadata == null || metadata.isNull()) {
            messages.add("metadata is missing: add metadata.name (and usually metadata.namespace), e.g."
                    + " metadata: {name: httpbin-80, namespace: curl}");
            return;
        }
        if (!metadata.isObject()) {
            messages.add("metadata must be a mapping with name (and usually namespace)");
            return;
        }
        JsonNode name = metadata.get("name");
        if (name == null || name.isNull() || (name.isTextual() && name.asText().isBlank())) {
            String generated = metadata.hasNonNull("generateName")
                    ? " (metadata.generateName is not supported: the name must be given)"
                    : "";
            messages.add("metadata.name is missing" + generated + ": every " + kind + " needs a name, e.g."
                    + " metadata: {name: httpbin-80}");
        } else if (!name.isTextual()) {
            messages.add("metadata.name must be a string, found " + HttpHeadersDeserializer.describe(name)
                    + ": quote it, e.g. name: \"" + name.asText() + "\"");
        } else {
            String n = name.asText();
            if (!KubernetesNames.isSubdomain(n)) {
                messages.add("metadata.name '" + n + "' is not a valid Kubernetes name: use at most 253 lowercase"
                        + " letters, digits, '-' and '.', starting and ending with a letter or digit");
            }
        }
        JsonNode namespace = metadata.get("namespace");
        if (namespace != null && !namespace.isNull()) {
            if (!namespace.isTextual()) {
                messages.add(
                        "metadata.namespace must be a string, found " + HttpHeadersDeserializer.describe(namespace));
            } else {
                String ns = namespace.asText();
                if (!KubernetesNames.isLabel(ns)) {
                    messages.add("metadata.namespace '" + ns + "' is not a valid namespace name: use at most 63"
                            + " lowercase letters, digits and '-', starting and ending with a letter or"
                            + " digit");
                }
            }
        }
    }

    private static String textOrNull(JsonNode n) {
        return n != null && n.isValueNode() && !n.isNull() && !n.asText().isBlank() ? n.asText() : null;
    }

    static String label(String kind, String namespace, String name) {
        if (name == null) {
            return kind;
        }
        return kind + " " + (namespace == null ? "" : namespace + "/") + name;
    }

    // ---------------------------------------------------------------- accumulation

    private static final class Collector {
        private final String origin;
        private final boolean keepsPlainForm;
        private final List<HasMetadata> resources = new ArrayList<>();
        private final List<ManifestObject> objects = new ArrayList<>();
        private final List<ManifestProblem> problems = new ArrayList<>();
        private final List<ManifestProblem> ignored = new ArrayList<>();
        private int index;

        Collector(String origin, boolean keepsPlainForm) {
            this.origin = origin;
            this.keepsPlainForm = keepsPlainForm;
        }

        boolean keepsPlainForm() {
            return keepsPlainForm;
        }

        int nextIndex() {
            return index++;
        }

        void problem(int documentIndex, String resource, String message) {
            problems.add(new ManifestProblem(origin, documentIndex, resource, message));
        }

        void ignored(int documentIndex, String resource, String message) {
            ignored.add(new ManifestProblem(origin, documentIndex, resource, message));
        }

        void resource(KnownKind kind, HasMetadata r) {
            resources.add(r);
            objects.add(new ManifestObject.Bound(kind, r));
        }

        void plain(KnownKind kind, ObjectNode tree) {
            objects.add(new ManifestObject.Plain(kind, tree));
        }

        ManifestSet result() {
            return new ManifestSet(resources, problems, ignored);
        }

        ManifestObject.Objects objects() {
            return new ManifestObject.Objects(objects, problems);
        }
    }
}
