package io.portcullis.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Real Envoy beside a pod, set up the way an injector would: the bootstrap and the iptables rules come
 * from {@code portcullis bootstrap} and {@code portcullis iptables}; Envoy runs in the pod's network
 * namespace under its own UID, which the rules exempt from redirection.
 */
final class Sidecar implements AutoCloseable {

    static final int PROXY_UID = SidecarContract.DEFAULT_PROXY_UID;

    private final Process process;
    final Path log;

    private Sidecar(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** An Envoy some other runner started (e.g. {@link StoredPodRunner} from an injected Pod spec). */
    static Sidecar running(Process process, Path log) {
        return new Sidecar(process, log);
    }

    /**
     * Issues the pod's certificate from the lab's CA ({@link PortcullisCli#caDir()}) into
     * {@link #certDir}, writes a bootstrap that talks mutual TLS to the one control plane on
     * {@link ControlPlaneProcess#XDS_PORT} with it, and starts Envoy.
     */
    static Sidecar start(PortcullisCli cli, Pod pod, Path workDir) throws IOException {
        return startOverMutualTls(cli, pod, workDir, defaultXdsArgs());
    }

    /** Like {@link #start(PortcullisCli, Pod, Path)}, bootstrapped to every one of these control planes: Envoy fails over between them. */
    static Sidecar start(PortcullisCli cli, Pod pod, Path workDir, List<ControlPlaneProcess> controlPlanes)
            throws IOException {
        List<String> xds = new java.util.ArrayList<>();
        controlPlanes.forEach(controlPlane -> xds.addAll(List.of("--xds-host", controlPlane.xdsEndpoint())));
        return startOverMutualTls(cli, pod, workDir, xds);
    }

    /**
     * Like {@link #start(PortcullisCli, Pod, Path)}, with Envoy runtime keys forced as a last static layer of the
     * bootstrap's layered_runtime (so they win over any layer {@code portcullis bootstrap} writes): a sidecar set
     * up differently, e.g. by an older version of the bootstrap.
     */
    static Sidecar start(PortcullisCli cli, Pod pod, Path workDir, Map<String, Object> runtime) throws IOException {
        return startOverMutualTls(cli, pod, workDir, defaultXdsArgs(), runtime);
    }

    private static Sidecar startOverMutualTls(PortcullisCli cli, Pod pod, Path workDir, List<String> xdsArgs)
            throws IOException {
        return startOverMutualTls(cli, pod, workDir, xdsArgs, Map.of());
    }

    private static Sidecar startOverMutualTls(
            PortcullisCli cli, Pod pod, Path workDir, List<String> xdsArgs, Map<String, Object> runtime)
            throws IOException {
        Path bootstrap = bootstrap(
                cli,
                pod,
                workDir,
                xdsArgs,
                "--ca-dir",
                cli.caDir().toString(),
                "--cert-dir",
                certDir(pod, workDir).toString(),
                "--key-owner-uid",
                String.valueOf(PROXY_UID));
        if (!runtime.isEmpty()) {
            addRuntimeLayer(bootstrap, runtime);
        }
        return startWithBootstrap(cli, pod, workDir, bootstrap);
    }

    private static List<String> defaultXdsArgs() {
        return List.of(
                "--xds-host", NetworkLab.HOST_ADDRESS, "--xds-port", String.valueOf(ControlPlaneProcess.XDS_PORT));
    }

    /** Where {@link #start} keeps the pod's certificate files (the layout of envoy-bootstrap's CertificateDirectory). */
    static Path certDir(Pod pod, Path workDir) {
        return workDir.toAbsolutePath().resolve(pod.podName() + "-certs");
    }

    /** {@code portcullis bootstrap} for the pod, to the default control plane, with extra arguments. */
    static Path bootstrap(PortcullisCli cli, Pod pod, Path workDir, String... extraArgs) throws IOException {
        return bootstrap(cli, pod, workDir, defaultXdsArgs(), extraArgs);
    }

    /** {@code portcullis bootstrap} for the pod with these xDS and extra arguments; returns the file, readable by the sidecar. */
    static Path bootstrap(PortcullisCli cli, Pod pod, Path workDir, List<String> xdsArgs, String... extraArgs)
            throws IOException {
        Path bootstrap = workDir.resolve(pod.podName() + "-bootstrap.yaml");
        List<String> args = new java.util.ArrayList<>(List.of(
                "bootstrap", "-n", pod.namespace(), "--service-account", pod.serviceAccount(), "--pod", pod.podName()));
        args.addAll(xdsArgs);
        args.addAll(List.of("-o", bootstrap.toString()));
        args.addAll(List.of(extraArgs));
        cli.run(null, args.toArray(String[]::new));
        Files.setPosixFilePermissions(bootstrap, PosixFilePermissions.fromString("rw-r--r--"));
        return bootstrap;
    }

    /** Installs the pod's iptables rules and starts Envoy with the given bootstrap in its network namespace. */
    static Sidecar startWithBootstrap(PortcullisCli cli, Pod pod, Path workDir, Path bootstrap) throws IOException {

        // What the init container does: install the redirect in the pod's namespace.
        String rules = cli.run(null, "iptables", "--proxy-uid", String.valueOf(PROXY_UID))
                .stdout();
        ProcessRun.run(
                        Duration.ofSeconds(20),
                        rules,
                        List.of("ip", "netns", "exec", pod.netns(), "iptables-restore", "--noflush"))
                .orFail();
        String rules6 = cli.run(null, "iptables", "--proxy-uid", String.valueOf(PROXY_UID), "--family", "ipv6")
                .stdout();
        ProcessRun.run(
                        Duration.ofSeconds(20),
                        rules6,
                        List.of("ip", "netns", "exec", pod.netns(), "ip6tables-restore", "--noflush"))
                .orFail();

        Path log = workDir.resolve(pod.podName() + "-envoy.log");
        List<String> command = new java.util.ArrayList<>(List.of(
                "ip",
                "netns",
                "exec",
                pod.netns(),
                "setpriv",
                "--reuid=" + PROXY_UID,
                "--regid=" + PROXY_UID,
                "--clear-groups",
                envoyBinary()));
        // The flags every sidecar runs with (drain at once when a policy is removed), as the injector sets them.
        command.addAll(SidecarBootstrap.envoyArguments(bootstrap.toString()));
        Process envoy = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new Sidecar(envoy, log);
    }

    private static void addRuntimeLayer(Path bootstrap, Map<String, Object> runtime) throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        ObjectNode root = (ObjectNode) yaml.readTree(bootstrap.toFile());
        ObjectNode layered = root.has("layered_runtime")
                ? (ObjectNode) root.get("layered_runtime")
                : root.putObject("layered_runtime");
        ArrayNode layers = layered.has("layers") ? (ArrayNode) layered.get("layers") : layered.putArray("layers");
        ObjectNode layer = layers.addObject();
        layer.put("name", "test-override");
        layer.set("static_layer", yaml.valueToTree(runtime));
        yaml.writeValue(bootstrap.toFile(), root);
    }

    static String envoyBinary() {
        for (String candidate : new String[] {System.getenv("PORTCULLIS_ENVOY"), "/usr/local/lib/portcullis/envoy"}) {
            if (candidate != null && Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new AssertionError("no Envoy binary readable by UID " + PROXY_UID + ": run scripts/install-deps");
    }

    String logText() {
        return ProcessRun.readLog(log);
    }

    boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        ProcessRun.stop(process);
    }
}
