package io.portcullis.source;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portcullis.crds.KnownKind;
import io.portcullis.crds.ManifestObject;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.ManifestWriter;
import io.portcullis.crds.MergePatch;
import io.portcullis.crds.MeshConfig;
import io.portcullis.crds.MeshConfigSpec;
import io.portcullis.crds.Namespaces;
import io.portcullis.input.ResourceKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * kubectl's apply, delete and patch for the directory config source: each resource applied through it
 * is kept in a file of its own ({@code <kind>.<namespace>.<name>.yaml}), written atomically so the
 * watcher never reads half a file.
 */
public final class ManifestStore {

    private final Path directory;
    private final String meshNamespace;
    private final ManifestReader reader = new ManifestReader();
    private final ManifestWriter writer = new ManifestWriter();

    public ManifestStore(Path directory, String meshNamespace) {
        this.directory = directory;
        this.meshNamespace = meshNamespace;
    }

    /** Applies every document of a manifest stream; nothing is written unless all documents are valid. */
    public List<String> apply(String yaml, String origin, String namespace) throws IOException {
        return apply(reader.readObjects(yaml, origin), namespace);
    }

    /** Like {@link #apply(String, String, String)} for bytes, which must be UTF-8 (a problem otherwise). */
    public List<String> apply(byte[] manifest, String origin, String namespace) throws IOException {
        return apply(reader.readObjects(manifest, origin), namespace);
    }

    // ManifestObjects, not the fabric8 resources: a plain Egress or HTTPRouteGroup is stored without binding the
    // model, which cold was most of a 'portcullis apply' (ManifestObject, PlainForm).
    private List<String> apply(ManifestObject.Objects set, String namespace) throws IOException {
        if (!set.problems().isEmpty()) {
            throw new IllegalArgumentException("nothing applied:\n  "
                    + String.join(
                            "\n  ",
                            set.problems().stream().map(Object::toString).toList()));
        }
        Files.createDirectories(directory);
        List<String> results = new ArrayList<>();
        for (ManifestObject object : set.objects()) {
            String effective = Namespaces.effective(object.kind().type(), meshNamespace, object.namespace(), namespace);
            Path file = fileFor(new ResourceKey(object.kind().kind(), effective, object.name()));
            String text = object.yaml(effective);
            String verb = !Files.exists(file) ? "created" : holds(file, text) ? "unchanged" : "configured";
            write(file, text);
            results.add(object.displayName() + " " + verb);
        }
        return results;
    }

    public String delete(String kindName, String namespace, String name) throws IOException {
        ResourceKey key = key(kindName, namespace, name);
        Path file = fileFor(key);
        if (Files.deleteIfExists(file)) {
            return kindName.toLowerCase(Locale.ROOT) + " \"" + name + "\" deleted";
        }
        Optional<Path> elsewhere = fileDefining(key);
        if (elsewhere.isPresent()) {
            throw new IllegalArgumentException(key + " is defined in " + elsewhere.get()
                    + ", which was not written by 'portcullis apply'; remove it from that file");
        }
        throw notFound(key);
    }

    public String patch(String kindName, String namespace, String name, String jsonPatch) throws IOException {
        ResourceKey key = key(kindName, namespace, name);
        Path file = fileFor(key);
        Optional<HasMetadata> current = Optional.empty();
        if (Files.exists(file)) {
            ManifestSet set = reader.read(file);
            if (set.hasProblems()) {
                throw new IllegalArgumentException(file + " cannot be patched, it does not read cleanly:\n  "
                        + String.join(
                                "\n  ",
                                set.problems().stream().map(Object::toString).toList())
                        + "\nfix the file, or delete it and apply the resource again");
            }
            current = set.resources().stream().findFirst();
        }
        if (current.isEmpty()) {
            Optional<Path> elsewhere = fileDefining(key);
            if (elsewhere.isPresent()) {
                throw new IllegalArgumentException(key + " is defined in " + elsewhere.get()
                        + ", which was not written by 'portcullis apply'; edit that file instead");
            }
            throw notFound(key);
        }
        HasMetadata patched = MergePatch.apply(current.get(), jsonPatch);
        String text = writer.write(patched);
        boolean changed = !holds(file, text);
        write(file, text);
        return displayName(patched) + (changed ? " patched" : " patched (no change)");
    }

    /** FSM's installation creates fsm-mesh-config; the standalone store does the same on first start. */
    public boolean ensureMeshConfig() throws IOException {
        ResourceKey key = new ResourceKey(MeshConfig.KIND, meshNamespace, MeshConfig.DEFAULT_NAME);
        if (Files.exists(fileFor(key)) || fileDefining(key).isPresent()) {
            return false;
        }
        Files.createDirectories(directory);
        MeshConfig defaults = new MeshConfig(
                meshNamespace,
                MeshConfig.DEFAULT_NAME,
                new MeshConfigSpec(new io.portcullis.crds.FeatureFlags(true), new io.portcullis.crds.Traffic(false)));
        write(fileFor(key), writer.write(defaults));
        return true;
    }

    private ResourceKey key(String kindName, String namespace, String name) {
        KnownKind kind = KnownKind.byKubectlName(kindName)
                .orElseThrow(() -> new IllegalArgumentException("unknown resource type '" + kindName + "'; use "
                        + String.join(", ", KnownKind.kubectlKinds())));
        return new ResourceKey(kind.kind(), Namespaces.effective(kind.type(), meshNamespace, namespace), name);
    }

    private Path fileFor(ResourceKey key) {
        // A cluster-scoped resource (Namespace) has no namespace: namespace.<name>.yaml.
        String namespace = key.namespace() == null ? "" : key.namespace() + ".";
        return directory.resolve(key.kind().toLowerCase(Locale.ROOT) + "." + namespace + key.name() + ".yaml");
    }

    private Optional<Path> fileDefining(ResourceKey key) throws IOException {
        if (!Files.isDirectory(directory)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(ManifestStore::isManifestName).toList()) {
                for (HasMetadata resource : readIfItMayDefine(file, key.kind())) {
                    String ns = Namespaces.effective(
                            resource.getClass(),
                            meshNamespace,
                            resource.getMetadata().getNamespace());
                    if (new ResourceKey(
                                    resource.getKind(),
                                    ns,
                                    resource.getMetadata().getName())
                            .equals(key)) {
                        return Optional.of(file);
                    }
                }
            }
        }
        return Optional.empty();
    }

    /**
     * What a file defines, or nothing without parsing it when it cannot define a resource of {@code kind}: YAML
     * spells a kind out literally (a plain or quoted scalar can only spell it otherwise with a backslash escape),
     * so a file whose bytes hold neither the kind's name nor a backslash defines none. Serve looks for the MeshConfig
     * this way at every start, and parsing every one of 10,000 policy files for it took seconds.
     */
    private List<HasMetadata> readIfItMayDefine(Path file, String kind) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(ManifestReader.MAX_BYTES + 1);
        } catch (IOException e) {
            return List.of();
        }
        if (!contains(bytes, kind.getBytes(StandardCharsets.UTF_8)) && !contains(bytes, new byte[] {'\\'})) {
            return List.of();
        }
        return reader.readUtf8(bytes, file.toString()).resources();
    }

    private static boolean contains(byte[] text, byte[] part) {
        return indexOf(text, part) >= 0;
    }

    private static int indexOf(byte[] text, byte[] part) {
        outer:
        for (int i = 0; i + part.length <= text.length; i++) {
            for (int j = 0; j < part.length; j++) {
                if (text[i + j] != part[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private IllegalArgumentException notFound(ResourceKey key) throws IOException {
        List<String> unreadable = new ArrayList<>();
        if (Files.isDirectory(directory)) {
            try (Stream<Path> files = Files.list(directory)) {
                for (Path file :
                        files.filter(ManifestStore::isManifestName).sorted().toList()) {
                    if (unreadable(file)) {
                        unreadable.add(file.getFileName().toString());
                    }
                }
            }
        }
        return new IllegalArgumentException("NotFound: " + key + " does not exist in " + directory
                + (unreadable.isEmpty()
                        ? ""
                        : " (these files do not read cleanly and may hold it: " + String.join(", ", unreadable)
                                + "; 'portcullis translate' shows why)"));
    }

    private boolean unreadable(Path file) {
        try {
            return reader.read(file).hasProblems();
        } catch (IOException e) {
            return true;
        }
    }

    private static boolean isManifestName(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".yaml") || name.endsWith(".yml");
    }

    private static boolean holds(Path file, String text) throws IOException {
        return Arrays.equals(Files.readAllBytes(file), text.getBytes(StandardCharsets.UTF_8));
    }

    private static void write(Path file, String text) throws IOException {
        Path temp = Files.createTempFile(file.getParent(), ".portcullis-", ".tmp");
        Files.writeString(temp, text, StandardCharsets.UTF_8);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String displayName(HasMetadata resource) {
        return KnownKind.byType(resource.getClass())
                .orElseThrow(() -> new IllegalStateException("not a kind Portcullis stores: " + resource.getKind()))
                .kubectlName(resource.getMetadata().getName());
    }
}
