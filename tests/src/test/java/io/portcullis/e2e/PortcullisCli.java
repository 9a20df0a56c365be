package io.portcullis.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs the packaged {@code portcullis} program exactly as an operator would, with the JVM running this test. */
record PortcullisCli(Path jar, Path configDir) implements GuideCommands {

    static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of(java(), "-jar", jar.toString()));
        command.addAll(List.of(args));
        return command;
    }

    ProcessRun run(String stdin, String... args) {
        return ProcessRun.run(Duration.ofSeconds(60), stdin, command(args)).orFail();
    }

    /**
     * The mesh CA directory every process of this lab shares: control planes serve with it and
     * {@link Sidecar#start} issues sidecar certificates from it (the CA is generated on first use).
     */
    Path caDir() {
        return configDir.toAbsolutePath().resolveSibling("ca");
    }

    /**
     * {@code portcullis explain --server URL --from IDENTITY TARGET -o json}: live, from the control plane's
     * debug endpoint. Not {@link #run}: a denial exits 1, which is an answer here, not a failure.
     */
    ProcessRun explain(String server, String identity, String target, String... options) {
        List<String> args = new ArrayList<>(List.of("explain", "--server", server, "--from", identity, "-o", "json"));
        args.addAll(List.of(options));
        args.add(target);
        return ProcessRun.run(Duration.ofSeconds(60), null, command(args.toArray(String[]::new)));
    }

    /** {@code kubectl apply -f -} against the directory store. */
    @Override
    public String apply(String manifests) {
        return run(manifests, "apply", "--config-dir", configDir.toString(), "-f", "-")
                .stdout()
                .trim();
    }

    /** {@code kubectl delete egress NAME -n NAMESPACE}. */
    @Override
    public String delete(String kind, String namespace, String name) {
        return run(null, "delete", "--config-dir", configDir.toString(), kind, name, "-n", namespace)
                .stdout()
                .trim();
    }

    /** The guide's {@code kubectl patch meshconfig fsm-mesh-config -n fsm-system -p '...' --type=merge}. */
    @Override
    public String patchMeshConfig(String json) {
        return run(
                        null,
                        "patch",
                        "--config-dir",
                        configDir.toString(),
                        "meshconfig",
                        "fsm-mesh-config",
                        "-n",
                        "fsm-system",
                        "-p",
                        json,
                        "--type=merge")
                .stdout()
                .trim();
    }
}
