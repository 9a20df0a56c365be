package io.portcullis.source;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressSettings;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.MeshConfig;
import io.portcullis.crds.NamespaceEgressModes;
import io.portcullis.crds.Namespaces;
import io.portcullis.input.ResourceKey;
import io.portcullis.input.ResourceSnapshot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded config source: every {@code *.yaml}/{@code *.yml} file in one directory (not in
 * subdirectories; names starting with {@code .} are skipped, so editors' and {@code portcullis
 * apply}'s temporary files are not read), kubectl-style multi-document manifests, applied live.
 * inotify (WatchService) names the files that changed, and only those (plus any file still settling)
 * are stamped and read: at 10,000 files, stamping all of them every second was the source's main cost.
 * A full scan of the directory every {@link #FULL_RESCAN} (10 s) catches anything a watch can miss
 * (network file systems, a symlinked file whose target changes); an event the watch cannot attribute to
 * one manifest (a queue overflow, Kubernetes' {@code ..data} symlink swap of a mounted ConfigMap) scans
 * everything at once, and while the directory has no working watch it is scanned every second.
 *
 * <p>The rule, which fails closed both ways: nothing already accepted is lost by a partial save, and
 * a partial save is not applied while the writer is still at it.
 * <ol>
 * <li><b>Settle.</b> A scan stamps each file it looks at (size, modification and inode change times in
 * nanoseconds, device and inode); every scan looks at every file that is settling. A changed file, a new
 * file or a deleted file is acted upon only once every scan during at least {@link #SETTLE} (1 s) has
 * seen the same stamp (or the file missing); until then the file keeps contributing what it did. A file
 * whose stamp changes while it
 * is read is read again once it settles. A file that keeps changing for {@link #REPORT_CHANGING_AFTER}
 * is reported.</li>
 * <li><b>Only a clean read replaces content.</b> A settled file contributes its new resources only
 * if it reads cleanly: readable, UTF-8, at most 1 MiB, valid YAML without aliases, every document a
 * valid resource (or a kind Portcullis ignores), and ending with a newline (a file cut mid-line is
 * taken for half-written). Otherwise it keeps the resources of its last clean read and each reason
 * is reported, naming the file and the fix. A file that held no resources at its last clean read
 * (or was never read cleanly) contributes its valid documents.</li>
 * <li><b>Empty is not delete.</b> A file that becomes empty (0 bytes, or only blanks, comments and
 * {@code ---}) while it held resources keeps them and is reported as "empty: keeping ...; delete the
 * file to remove its resources". Deleting the file (once settled) withdraws them.</li>
 * <li><b>Per file.</b> What one file holds never blocks another: a file that cannot be read is
 * reported and the others' changes still apply. If the directory itself cannot be listed, every
 * file keeps its content and that is reported.</li>
 * </ol>
 * Settling covers writers that pause less than a second (an editor truncating then writing, a slow
 * copy); a writer that stalls longer mid-file can still be read half-written if what it wrote so far
 * is complete lines of valid YAML. Only writing a temporary file and renaming it over the old one is
 * atomic, which is what {@code portcullis apply}, {@code patch} and {@code delete} do.
 */
public final class DirectoryConfigSource implements ConfigSource {

    /** How long a file's stamp must stay unchanged before it is read. */
    public static final Duration SETTLE = Duration.ofSeconds(1);
    /**
     * How often every file is stamped even without a watch event: what a watch can miss is picked up within
     * this (plus the settle time).
     */
    public static final Duration FULL_RESCAN = Duration.ofSeconds(10);
    /** While the directory has no working watch, it is scanned this often, as it always was. */
    private static final Duration UNWATCHED_RESCAN = Duration.ofSeconds(1);

    /** A file that has not settled after this long is reported as still changing. */
    public static final Duration REPORT_CHANGING_AFTER = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(DirectoryConfigSource.class);

    /** A scan with at least this many files to read reads them in parallel. */
    private static final int PARALLEL_READS_FROM = 64;
    /** Readers of a parallel scan: parsing is CPU-bound, so one per core, at most four. */
    private static final int READ_THREADS =
            Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

    private final Path directory;
    private final String meshNamespace;
    private final Duration settle;
    private final InstantSource clock;
    private final SourceEvents events;
    private final ManifestReader reader = new ManifestReader();
    private final SortedMap<Path, WatchedFile> files = new TreeMap<>();
    /**
     * The files of {@link #files} with a change not yet settled ({@link WatchedFile#changing()} set), kept with every
     * put so that a scan of the files the watch named, and the wait before the next one, need not look at all of them:
     * at 10,000 files those two walks ran several times during every change's settle.
     */
    private final SortedSet<Path> settling = new TreeSet<>();
    /** The files of {@link #files} with problems of their own, kept likewise: each update lists them in file order. */
    private final SortedSet<Path> withProblems = new TreeSet<>();
    /** What the files define, kept between updates: see {@link ResourceDefinitions}. */
    private final ResourceDefinitions definitions = new ResourceDefinitions();

    private String directoryProblem;
    /** Reads begun while the files present at start settle; each is taken by the scan that reads its file. */
    private final Map<Path, Future<ReadAhead>> readAhead = new HashMap<>();

    private boolean published;
    private Instant lastFullScan = Instant.MIN;
    private volatile boolean running;
    private Thread watcher;

    /**
     * @param meshNamespace namespace of the {@code fsm-mesh-config} MeshConfig (fsm-system); a MeshConfig
     *                      manifest without a namespace is taken to be in it
     */
    public DirectoryConfigSource(Path directory, String meshNamespace) {
        this(directory, meshNamespace, SourceEvents.NONE);
    }

    /** @param events where files read, removed and failing, and updates applied, are counted */
    public DirectoryConfigSource(Path directory, String meshNamespace, SourceEvents events) {
        this(directory, meshNamespace, SETTLE, InstantSource.system(), events);
    }

    /** With another settle time and clock, so tests can drive {@link #scan()} without waiting. */
    DirectoryConfigSource(Path directory, String meshNamespace, Duration settle, InstantSource clock) {
        this(directory, meshNamespace, settle, clock, SourceEvents.NONE);
    }

    DirectoryConfigSource(
            Path directory, String meshNamespace, Duration settle, InstantSource clock, SourceEvents events) {
        this.directory = directory;
        this.meshNamespace = meshNamespace;
        this.settle = settle;
        this.clock = clock;
        this.events = events;
    }

    /**
     * Publishes the first snapshot once the files present have settled (so this takes {@link #SETTLE}),
     * then every change, from a watcher thread.
     */
    @Override
    public void start(Consumer<SourceUpdate> listener) throws IOException, InterruptedException {
        Files.createDirectories(directory);
        WatchService watchService = FileSystems.getDefault().newWatchService();
        WatchKey[] watch = {register(watchService)};
        running = true;
        ExecutorService early = readers();
        try {
            synchronized (this) {
                observeDirectory(); // the files present start settling now
                // Read while they settle: the first scan takes a read whose file kept its stamp instead of reading
                // it again, so at 10,000 files most of the reading is done during the settle time.
                files.forEach((path, file) -> {
                    if (file.changing() != null && file.changing().stamp() != null) {
                        FileStamp stamp = file.changing().stamp();
                        readAhead.put(path, early.submit(() -> readAhead(path, stamp)));
                    }
                });
            }
            Thread.sleep(settle);
            publish(listener, null);
            synchronized (this) {
                // The next full scan is due a full period after the first config was applied, not after its scan
                // began: at 10,000 files that took seconds, and the watch reports what changed meanwhile.
                lastFullScan = clock.instant();
            }
        } finally {
            synchronized (this) {
                readAhead.clear();
            }
            early.shutdownNow();
        }
        watcher = Thread.ofPlatform().name("config-dir-watch").daemon().start(() -> {
            try (watchService) {
                while (running) {
                    boolean watched = watch[0] != null && watch[0].isValid();
                    WatchKey key = watchService.poll(nextScanMillis(watched), TimeUnit.MILLISECONDS);
                    Set<Path> named = new HashSet<>();
                    boolean everything = key != null && changedFiles(key, named);
                    if (watch[0] == null || !watch[0].isValid()) {
                        // Never watched, or the directory was removed or replaced: watch it again if it is
                        // there, and meanwhile nothing tells which files changed.
                        everything = true;
                        watch[0] = register(watchService);
                    }
                    publish(listener, everything ? null : named);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                LOG.warn("closing the watch of {} failed", directory, e);
            }
        });
    }

    /** Watches the directory; null if it cannot (it is then scanned every second). */
    private WatchKey register(WatchService watchService) {
        try {
            return directory.register(
                    watchService,
                    StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot watch {} ({}); scanning it every second", directory, e.toString());
            return null;
        }
    }

    /**
     * Adds the manifests the key's events name to {@code named}; whether the events call for scanning
     * everything (an overflow, the watch lost, or a change to a {@code ..} entry, which is how Kubernetes swaps
     * all the files of a mounted volume at once). Other names (editors' and apply's dot-files, non-YAML files)
     * are none of the source's business.
     */
    private boolean changedFiles(WatchKey key, Set<Path> named) {
        boolean everything = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            if (event.kind() == StandardWatchEventKinds.OVERFLOW || !(event.context() instanceof Path name)) {
                everything = true;
            } else if (name.toString().startsWith("..")) {
                everything = true;
            } else if (isManifestName(name.toString())) {
                named.add(directory.resolve(name));
            }
        }
        everything |= !key.reset();
        return everything;
    }

    /** @param named the files to look at (with those settling); null: every file of the directory */
    private void publish(Consumer<SourceUpdate> listener, Set<Path> named) {
        try {
            Optional<SourceUpdate> update = named == null || dueForFullScan() ? scan() : scan(named);
            if (update.isPresent()) {
                listener.accept(update.get());
                events.happened(SourceEvent.UPDATE_APPLIED);
            }
        } catch (RuntimeException e) {
            events.happened(SourceEvent.APPLY_FAILED);
            // The watcher must outlive one failed update: the next scan publishes again.
            LOG.error("applying the config of {} failed; it is published again on the next scan", directory, e);
            synchronized (this) {
                published = false;
            }
        }
    }

    /** Scan soon while a change is settling, else at the next full scan (or an event, whichever comes first). */
    private synchronized long nextScanMillis(boolean watched) {
        if (!settling.isEmpty()) {
            return Math.max(50, settle.toMillis() / 4);
        }
        if (!watched) {
            return UNWATCHED_RESCAN.toMillis();
        }
        Instant due = lastFullScan.plus(FULL_RESCAN);
        return Math.max(
                50,
                Math.min(
                        FULL_RESCAN.toMillis(),
                        Duration.between(clock.instant(), due).toMillis()));
    }

    private synchronized boolean dueForFullScan() {
        return !clock.instant().isBefore(lastFullScan.plus(FULL_RESCAN));
    }

    /**
     * Reads every file now, without settling, for one-shot readers (the CLI's {@code translate}).
     *
     * @throws IOException if the directory cannot be listed
     */
    public synchronized SourceUpdate readOnce() throws IOException {
        Instant now = clock.instant();
        Map<Path, FileStamp> listed = list();
        observeAll(stamps(union(listed), listed::get), now, Duration.ZERO);
        published = true;
        return assemble();
    }

    /**
     * One scan: stamps the files, acts on those that settled and returns the new update if anything
     * changed (always on the first call).
     */
    synchronized Optional<SourceUpdate> scan() {
        return updateIf(observeDirectory());
    }

    /**
     * A scan of only the files {@code named} by the watch, and of those still settling: the same rule as
     * {@link #scan()} for each file it looks at, at the cost of those files instead of the whole directory.
     */
    synchronized Optional<SourceUpdate> scan(Set<Path> named) {
        Instant now = clock.instant();
        SortedSet<Path> paths = new TreeSet<>(named);
        paths.addAll(settling);
        return updateIf(observeAll(
                stamps(paths, path -> isManifest(path) ? FileStamp.of(path).orElse(null) : null), now, settle));
    }

    private Optional<SourceUpdate> updateIf(boolean changed) {
        if (!changed && published) {
            return Optional.empty();
        }
        published = true;
        return Optional.of(assemble());
    }

    /** Stamps every file and applies the rule to each; whether anything published changed. */
    private boolean observeDirectory() {
        Instant now = clock.instant();
        lastFullScan = now;
        Map<Path, FileStamp> listed;
        try {
            listed = list();
        } catch (IOException | RuntimeException e) {
            String problem = directory + ": cannot be listed (" + e + "): every file keeps what it contributed; "
                    + "check that the directory exists and is readable";
            boolean changed = !problem.equals(directoryProblem);
            if (changed) {
                events.happened(SourceEvent.LISTING_ERROR);
            }
            directoryProblem = problem;
            return changed;
        }
        boolean changed = directoryProblem != null;
        directoryProblem = null;
        return observeAll(stamps(union(listed), listed::get), now, settle) || changed;
    }

    private SortedSet<Path> union(Map<Path, FileStamp> listed) {
        TreeSet<Path> all = new TreeSet<>(files.keySet());
        all.addAll(listed.keySet());
        return all;
    }

    /** Each path with its stamp now (null: not there), in name order. */
    private static SortedMap<Path, FileStamp> stamps(Set<Path> paths, Function<Path, FileStamp> stampOf) {
        SortedMap<Path, FileStamp> stamps = new TreeMap<>();
        paths.forEach(path -> stamps.put(path, stampOf.apply(path)));
        return stamps;
    }

    /**
     * Applies the rule to each file, reading those due in parallel when there are many (the first scan of a large
     * directory: parsing 10,000 files one after another was most of serve's start).
     *
     * @param current each file's stamp now (null: not there)
     * @return whether what any file contributes, or its problems, changed
     */
    private boolean observeAll(SortedMap<Path, FileStamp> current, Instant now, Duration settleTime) {
        boolean changed = false;
        Map<Path, WatchedFile> due = new TreeMap<>();
        for (Map.Entry<Path, FileStamp> entry : current.entrySet()) {
            changed |= observe(entry.getKey(), entry.getValue(), now, settleTime, due);
        }
        List<Map.Entry<Path, WatchedFile>> toRead = List.copyOf(due.entrySet());
        List<WatchedFile> read = readAll(toRead, current, now);
        for (int i = 0; i < toRead.size(); i++) {
            WatchedFile file = read.get(i);
            keep(toRead.get(i).getKey(), file);
            if (file.changing() == null) {
                // Read to the end (not found changing underneath): clean, or not, which its problems say.
                events.happened(file.problems().isEmpty() ? SourceEvent.FILE_READ : SourceEvent.READ_ERROR);
            }
        }
        return changed;
    }

    /** Reads each file (what it was before, by path), in the order given; on a bounded pool when there are many. */
    private List<WatchedFile> readAll(
            List<Map.Entry<Path, WatchedFile>> toRead, Map<Path, FileStamp> current, Instant now) {
        List<Callable<WatchedFile>> tasks = new ArrayList<>(toRead.size());
        for (Map.Entry<Path, WatchedFile> entry : toRead) {
            Path path = entry.getKey();
            Future<ReadAhead> early = readAhead.remove(path);
            tasks.add(() -> read(path, current.get(path), entry.getValue(), now, early));
        }
        if (tasks.size() < PARALLEL_READS_FROM || READ_THREADS == 1) {
            return tasks.stream().map(DirectoryConfigSource::call).toList();
        }
        try (ExecutorService pool = readers()) {
            List<Future<WatchedFile>> reads = tasks.stream().map(pool::submit).toList();
            List<WatchedFile> read = new ArrayList<>(reads.size());
            for (Future<WatchedFile> future : reads) {
                read.add(future.get());
            }
            return read;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading " + directory, e);
        } catch (ExecutionException e) {
            // read() turns every failure into a problem of its file; anything else is a bug.
            throw new IllegalStateException("reading " + directory + " failed", e.getCause());
        }
    }

    private ExecutorService readers() {
        return Executors.newFixedThreadPool(
                READ_THREADS,
                Thread.ofPlatform().name("config-dir-read-", 1).daemon().factory());
    }

    private static WatchedFile call(Callable<WatchedFile> read) {
        try {
            return read.call();
        } catch (Exception e) {
            throw new IllegalStateException(e); // read() turns every failure into a problem of its file
        }
    }

    /**
     * Applies the rule to one file whose stamp is now {@code current} (null: not there); a file due to be read is
     * put in {@code due} (with what it was until now) instead, for {@link #observeAll} to read.
     *
     * @return whether what the file contributes, or its problems, changed
     */
    private boolean observe(
            Path path, FileStamp current, Instant now, Duration settleTime, Map<Path, WatchedFile> due) {
        WatchedFile file = files.getOrDefault(path, WatchedFile.UNSEEN);
        if (Objects.equals(current, file.read())) {
            if (file.changing() != null) {
                keep(path, file.settledBack());
            }
            return false;
        }
        if (!settleTime.isZero()) {
            WatchedFile.Change change = file.changing();
            if (change == null || !Objects.equals(change.stamp(), current)) {
                file = file.changingTo(current, now);
                change = file.changing();
            }
            if (now.isBefore(change.since().plus(settleTime))) {
                boolean report = !change.reported()
                        && !now.isBefore(change.changingSince().plus(REPORT_CHANGING_AFTER));
                keep(path, report ? file.reportedAsChanging() : file);
                return report;
            }
        }
        if (current == null) {
            forget(path);
            events.happened(SourceEvent.FILE_REMOVED);
            return true;
        }
        due.put(path, file);
        return true;
    }

    /**
     * A file of the directory as read while it was settling at start: its bytes and what they hold, read while its
     * stamp was {@code stamp} (the same before and after the read).
     */
    @SuppressWarnings("ArrayRecordComponent") // private, and handed once to WatchedFile.afterRead as a read would
    private record ReadAhead(FileStamp stamp, byte[] bytes, ManifestSet set) {}

    /** Reads a settling file early; null when it cannot be read cleanly now (the scan then reads it itself). */
    private ReadAhead readAhead(Path path, FileStamp stamp) {
        try {
            byte[] bytes;
            try (InputStream in = Files.newInputStream(path)) {
                bytes = in.readNBytes(ManifestReader.MAX_BYTES + 1);
            }
            if (!stamp.equals(FileStamp.of(path).orElse(null))) {
                return null;
            }
            return new ReadAhead(
                    stamp, bytes, parse(bytes, directory.relativize(path).toString()));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private ManifestSet parse(byte[] bytes, String origin) {
        ManifestSet set = reader.readUtf8(bytes, origin);
        set.resources().forEach(resource -> Namespaces.fillIn(resource, meshNamespace));
        return set;
    }

    /**
     * Reads a file that settled with {@code stamp}. A read begun while it settled ({@code early}) stands when it
     * was made at the same stamp: the stamp changes with every write, so the bytes are the file's content now.
     */
    private WatchedFile read(Path path, FileStamp stamp, WatchedFile file, Instant now, Future<ReadAhead> early) {
        String origin = directory.relativize(path).toString();
        ReadAhead ahead = early == null ? null : awaitReadAhead(early);
        if (ahead != null && ahead.stamp().equals(stamp)) {
            return file.afterRead(stamp, ahead.bytes(), ahead.set(), origin);
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(path)) {
            bytes = in.readNBytes(ManifestReader.MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            return file.changingTo(null, now);
        } catch (AccessDeniedException e) {
            return file.unreadable(stamp, origin, "permission denied");
        } catch (FileSystemException e) {
            return file.unreadable(stamp, origin, e.getReason() != null ? e.getReason() : e.toString());
        } catch (IOException | RuntimeException e) {
            return file.unreadable(stamp, origin, e.toString());
        }
        FileStamp after = FileStamp.of(path).orElse(null);
        if (!stamp.equals(after)) {
            return file.changingTo(after, now); // written while being read: read it again once it settles
        }
        try {
            return file.afterRead(stamp, bytes, parse(bytes, origin), origin);
        } catch (RuntimeException e) {
            // A reader bug must cost this file only, never the whole directory.
            LOG.error("reading {} failed unexpectedly", path, e);
            return file.unreadable(stamp, origin, "unexpected " + e);
        }
    }

    private static ReadAhead awaitReadAhead(Future<ReadAhead> early) {
        try {
            return early.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | CancellationException e) {
            return null; // read again
        }
    }

    private Map<Path, FileStamp> list() throws IOException {
        Map<Path, FileStamp> listed = new TreeMap<>();
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path file : entries.filter(DirectoryConfigSource::isManifest).toList()) {
                FileStamp.of(file).ifPresent(stamp -> listed.put(file, stamp));
            }
        }
        return listed;
    }

    /** Puts a file's new state in {@link #files}, and keeps {@link #settling} and {@link #withProblems} with it. */
    private void keep(Path path, WatchedFile file) {
        files.put(path, file);
        if (file.changing() != null) {
            settling.add(path);
        } else {
            settling.remove(path);
        }
        if (file.problems().isEmpty()) {
            withProblems.remove(path);
        } else {
            withProblems.add(path);
        }
    }

    private void forget(Path path) {
        files.remove(path);
        settling.remove(path);
        withProblems.remove(path);
    }

    private SourceUpdate assemble() {
        List<String> problems = new ArrayList<>();
        if (directoryProblem != null) {
            problems.add(directoryProblem);
        }
        definitions.update(files);
        Map<Path, List<String>> overridden =
                definitions.overridden(file -> directory.relativize(file).toString());
        // Only the files with something to say, in file order: walking all 10,000 was a pass of every change.
        SortedSet<Path> saying = new TreeSet<>(withProblems);
        saying.addAll(settling);
        saying.addAll(overridden.keySet());
        saying.forEach(file -> {
            WatchedFile watched = files.get(file);
            problems.addAll(watched.problems());
            if (watched.changing() != null && watched.changing().reported()) {
                problems.add(directory.relativize(file) + ": has kept changing for over "
                        + REPORT_CHANGING_AFTER.toSeconds() + " s; what it contributed stays until it is unchanged for "
                        + settle.toMillis() + " ms");
            }
            problems.addAll(overridden.getOrDefault(file, List.of()));
        });
        List<Egress> egresses = new ArrayList<>();
        List<HTTPRouteGroup> routeGroups = new ArrayList<>();
        MeshConfig meshConfig = null;
        List<io.fabric8.kubernetes.api.model.Namespace> namespaces = new ArrayList<>();
        for (HasMetadata resource : definitions.winners()) { // in key order, which the snapshot keeps
            if (resource instanceof io.fabric8.kubernetes.api.model.Namespace namespace) {
                namespaces.add(namespace);
            } else if (resource instanceof Egress egress) {
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
        // A Namespace manifest puts its namespace's sidecars in audit mode (portcullis.io/egress-mode).
        NamespaceEgressModes modes = NamespaceEgressModes.of(namespaces);
        problems.addAll(modes.problems());
        return new SourceUpdate(
                // The winners come out of a map sorted by key: the snapshot need not check their order.
                ResourceSnapshot.ofKeyOrdered(EgressSettings.of(meshConfig), egresses, routeGroups, modes.audited()),
                problems);
    }

    private static boolean isManifest(Path file) {
        return isManifestName(file.getFileName().toString()) && Files.isRegularFile(file);
    }

    private static boolean isManifestName(String name) {
        return !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml"));
    }

    @Override
    public void close() {
        running = false;
        if (watcher != null) {
            watcher.interrupt();
        }
    }
}
