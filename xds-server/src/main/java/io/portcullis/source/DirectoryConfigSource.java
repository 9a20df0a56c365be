package io.portcullis.source;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestProblem;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.MeshConfig;
import io.portcullis.model.ResourceKey;
import io.portcullis.model.ResourceSnapshot;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded config source: every {@code *.yaml}/{@code *.yml} file in one directory, kubectl-style
 * multi-document manifests, applied live. inotify (WatchService) wakes the reload at once; a rescan
 * every second catches anything a watch can miss (editors that swap files, network filesystems).
 *
 * <p>A file that cannot be read cleanly keeps contributing what it held at its last clean read, so a
 * half-saved edit never revokes access that was already granted; its problems are reported meanwhile.
 */
public final class DirectoryConfigSource implements ConfigSource {

    private static final Logger LOG = LoggerFactory.getLogger(DirectoryConfigSource.class);

    private final Path directory;
    private final String meshNamespace;
    private final ManifestReader reader = new ManifestReader();
    private final Map<Path, List<HasMetadata>> lastGood = new HashMap<>();
    private Map<Path, FileStamp> stamps = Map.of();
    private volatile boolean running;
    private Thread watcher;

    /**
     * @param meshNamespace namespace of the {@code fsm-mesh-config} MeshConfig (fsm-system); a MeshConfig
     *                      manifest without a namespace is taken to be in it
     */
    public DirectoryConfigSource(Path directory, String meshNamespace) {
        this.directory = directory;
        this.meshNamespace = meshNamespace;
    }

    @Override
    public void start(Consumer<SourceUpdate> listener) throws IOException {
        Files.createDirectories(directory);
        WatchService watchService = FileSystems.getDefault().newWatchService();
        directory.register(watchService, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
        running = true;
        reloadIfChanged(listener, true);
        watcher = Thread.ofPlatform().name("config-dir-watch").daemon().start(() -> {
            try (watchService) {
                while (running) {
                    var key = watchService.poll(1, TimeUnit.SECONDS);
                    if (key != null) {
                        key.pollEvents();
                        key.reset();
                    }
                    reloadIfChanged(listener, false);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException | RuntimeException e) {
                LOG.error("watching {} failed; config changes are no longer picked up", directory, e);
            }
        });
    }

    /** Reads the directory now; exposed so tests and the CLI's one-shot commands need no watcher. */
    public synchronized SourceUpdate readOnce() throws IOException {
        return load(listFiles());
    }

    private synchronized void reloadIfChanged(Consumer<SourceUpdate> listener, boolean force) {
        try {
            Map<Path, FileStamp> current = listFiles();
            if (!force && current.equals(stamps)) {
                return;
            }
            stamps = current;
            listener.accept(load(current));
        } catch (IOException | RuntimeException e) {
            LOG.error("reading config directory {} failed; keeping the last applied config", directory, e);
        }
    }

    private Map<Path, FileStamp> listFiles() throws IOException {
        Map<Path, FileStamp> files = new java.util.TreeMap<>();
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path file : entries.filter(DirectoryConfigSource::isManifest).sorted().toList()) {
                try {
                    files.put(file, new FileStamp(Files.getLastModifiedTime(file).toMillis(), Files.size(file)));
                } catch (java.nio.file.NoSuchFileException e) {
                    // deleted between list and read: it is simply gone
                }
            }
        }
        return files;
    }

    private SourceUpdate load(Map<Path, FileStamp> files) throws IOException {
        List<String> problems = new ArrayList<>();
        Map<ResourceKey, HasMetadata> resources = new LinkedHashMap<>();
        Map<ResourceKey, Path> definedIn = new HashMap<>();
        lastGood.keySet().retainAll(files.keySet());
        for (Path file : files.keySet()) {
            String origin = directory.relativize(file).toString();
            ManifestSet set;
            try {
                set = reader.read(Files.readString(file), origin);
            } catch (java.nio.file.NoSuchFileException e) {
                continue;
            }
            List<HasMetadata> fileResources = set.resources();
            if (!set.problems().isEmpty()) {
                set.problems().stream().map(ManifestProblem::toString).forEach(problems::add);
                if (lastGood.containsKey(file)) {
                    problems.add(origin + ": keeping the resources of its last clean read until the problems above are fixed");
                    fileResources = lastGood.get(file);
                }
            } else {
                lastGood.put(file, fileResources);
            }
            for (HasMetadata resource : fileResources) {
                defaultNamespace(resource);
                ResourceKey key = ResourceKey.of(resource);
                Path earlier = definedIn.put(key, file);
                if (earlier != null) {
                    problems.add(origin + ": " + key + " is also defined in " + directory.relativize(earlier)
                            + "; the definition in " + origin + " wins (files are read in name order)");
                }
                resources.put(key, resource);
            }
        }
        List<Egress> egresses = new ArrayList<>();
        List<HTTPRouteGroup> routeGroups = new ArrayList<>();
        MeshConfig meshConfig = null;
        for (HasMetadata resource : resources.values()) {
            if (resource instanceof Egress egress) {
                egresses.add(egress);
            } else if (resource instanceof HTTPRouteGroup group) {
                routeGroups.add(group);
            } else if (resource instanceof MeshConfig mesh) {
                if (MeshConfig.DEFAULT_NAME.equals(mesh.getMetadata().getName())
                        && meshNamespace.equals(mesh.getMetadata().getNamespace())) {
                    meshConfig = mesh;
                } else {
                    problems.add(ResourceKey.of(mesh) + " is ignored: only MeshConfig " + meshNamespace + "/"
                            + MeshConfig.DEFAULT_NAME + " configures the mesh");
                }
            }
        }
        return new SourceUpdate(ResourceSnapshot.of(meshConfig, egresses, routeGroups), problems);
    }

    private void defaultNamespace(HasMetadata resource) {
        if (resource.getMetadata().getNamespace() == null || resource.getMetadata().getNamespace().isEmpty()) {
            // Same defaulting as kubectl; the MeshConfig lives with the mesh control plane.
            resource.getMetadata().setNamespace(resource instanceof MeshConfig ? meshNamespace : "default");
        }
    }

    private static boolean isManifest(Path file) {
        String name = file.getFileName().toString();
        return Files.isRegularFile(file) && !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml"));
    }

    @Override
    public void close() {
        running = false;
        if (watcher != null) {
            watcher.interrupt();
        }
    }

    private record FileStamp(long modifiedMillis, long size) {
    }
}
