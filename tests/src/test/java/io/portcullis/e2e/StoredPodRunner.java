package io.portcullis.e2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.portcullis.kubernetes.injection.SidecarTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plays kubelet for the sidecar of a Pod as the API server stored it (after the injector): there is no
 * kubelet on a bare API server, so this runs what the stored spec says, to prove the injected spec works and
 * not only that it exists. In a network namespace of the lab (a pod without rules yet), it runs the
 * {@value SidecarTemplate#INIT_CONTAINER} container's command to completion, then starts the
 * {@value SidecarTemplate#SIDECAR_CONTAINER} container's command, each as the spec says:
 *
 * <ul>
 *   <li>{@code command} and {@code args}, with {@code $(VAR)} expanded as the kubelet does;
 *   <li>{@code env}: {@code value}, and {@code valueFrom.fieldRef} of {@code metadata.name},
 *       {@code metadata.namespace} and {@code spec.serviceAccountName};
 *   <li>{@code securityContext}: {@code runAsUser}/{@code runAsGroup} (container, else pod), the capabilities
 *       (with {@code drop: [ALL]}, only those added stay in the bounding set), {@code allowPrivilegeEscalation:
 *       false} as no_new_privs;
 *   <li>{@code volumeMounts} of {@code emptyDir} volumes (one directory per pod, shared by its containers) and
 *       {@code secret} volumes (the Secret read from the API server, each key a file with the volume's
 *       {@code defaultMode}), bind-mounted at their {@code mountPath}, read-only where the spec says so, in the
 *       container's own mount namespace; {@code projected} volumes (the ServiceAccount token the API server
 *       mounts into every container) are mounted empty, as neither container reads them.
 * </ul>
 *
 * The images are stood in for by this host: {@code portcullis} is the packaged CLI, {@code envoy} the lab's
 * Envoy, and every other program comes from the host's PATH. Anything else the two containers ask for fails
 * the test rather than being ignored.
 */
final class StoredPodRunner {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)|\\$\\$");
    private static final String HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final KubernetesClient client;
    private final Path workDir;
    private final Path imageBin;

    /**
     * @param client reads the Secrets the pod mounts
     * @param workDir readable by the sidecar's UID; each pod gets a directory there
     */
    StoredPodRunner(KubernetesClient client, PortcullisCli cli, Path workDir) throws IOException {
        this.client = client;
        this.workDir = workDir.toAbsolutePath();
        this.imageBin = Files.createDirectories(this.workDir.resolve("image-bin"));
        Files.setPosixFilePermissions(imageBin, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path portcullis = imageBin.resolve("portcullis");
        Files.writeString(
                portcullis,
                "#!/bin/sh\nexec '" + PortcullisCli.java() + "' -jar '"
                        + cli.jar().toAbsolutePath() + "' \"$@\"\n");
        Files.setPosixFilePermissions(portcullis, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path envoy = imageBin.resolve("envoy");
        Files.deleteIfExists(envoy);
        Files.createSymbolicLink(envoy, Path.of(Sidecar.envoyBinary()));
    }

    /** Runs the init container to completion in {@code netns}, then starts the Envoy container there. */
    RunningSidecar start(Pod stored, String netns) throws IOException {
        Path podDir = Files.createDirectories(
                workDir.resolve("pod-" + stored.getMetadata().getNamespace() + "-"
                        + stored.getMetadata().getName()));
        Files.setPosixFilePermissions(podDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, Path> volumes = prepareVolumes(stored, podDir);

        Container init = container(stored.getSpec().getInitContainers(), SidecarTemplate.INIT_CONTAINER, stored);
        ProcessRun initRun = ProcessRun.run(Duration.ofMinutes(2), null, commandLine(stored, init, volumes, netns));
        if (initRun.exitCode() != 0) {
            throw new AssertionError("init container " + init.getName() + " of the stored pod exited "
                    + initRun.exitCode() + "\nstdout: " + initRun.stdout() + "\nstderr: " + initRun.stderr());
        }

        Container envoy = container(stored.getSpec().getContainers(), SidecarTemplate.SIDECAR_CONTAINER, stored);
        Path log = podDir.resolve(envoy.getName() + ".log");
        Process process = new ProcessBuilder(commandLine(stored, envoy, volumes, netns))
                .directory(Path.of("/").toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new RunningSidecar(stored, process, log, initRun.stdout() + initRun.stderr());
    }

    /** The stored pod's sidecar, running. */
    record RunningSidecar(Pod pod, Process process, Path log, String initOutput) implements AutoCloseable {
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

    private static Container container(List<Container> containers, String name, Pod pod) {
        return containers.stream()
                .filter(c -> name.equals(c.getName()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("the stored pod "
                        + pod.getMetadata().getName() + " has no container " + name + ": it was not injected"));
    }

    /** A directory per volume the two containers mount: emptyDir empty and writable, secret filled from the API server. */
    private Map<String, Path> prepareVolumes(Pod pod, Path podDir) throws IOException {
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (Volume volume : pod.getSpec().getVolumes()) {
            Path dir = podDir.resolve("volumes").resolve(volume.getName());
            if (volume.getEmptyDir() != null) {
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            } else if (volume.getSecret() != null) {
                String name = volume.getSecret().getSecretName();
                Secret secret = client.secrets()
                        .inNamespace(pod.getMetadata().getNamespace())
                        .withName(name)
                        .get();
                if (secret == null) {
                    throw new AssertionError("the pod mounts Secret "
                            + pod.getMetadata().getNamespace() + "/" + name + ", which the API server does not have");
                }
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                int mode = volume.getSecret().getDefaultMode() == null
                        ? 0644
                        : volume.getSecret().getDefaultMode();
                for (var entry : secret.getData().entrySet()) {
                    Path file = dir.resolve(entry.getKey());
                    Files.write(file, Base64.getDecoder().decode(entry.getValue()));
                    Files.setPosixFilePermissions(file, permissions(mode));
                }
            } else if (volume.getProjected() != null) {
                // The ServiceAccount token, which the API server's ServiceAccount admission mounts into every
                // container, the injected ones too. Neither reads it, so it is mounted empty.
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
            } else {
                continue; // no container this runner plays mounts it, or commandLine() fails naming it
            }
            dirs.put(volume.getName(), dir);
        }
        return dirs;
    }

    private List<String> commandLine(Pod pod, Container container, Map<String, Path> volumes, String netns) {
        Map<String, String> env = environment(pod, container);
        StringBuilder script = new StringBuilder("set -e\n");
        for (VolumeMount mount : container.getVolumeMounts()) {
            Path source = volumes.get(mount.getName());
            if (source == null) {
                throw new AssertionError("container " + container.getName() + " mounts volume " + mount.getName()
                        + ", which is neither an emptyDir nor a secret volume of the pod");
            }
            // The mount point is created on the host (empty, under /run); the bind mount itself exists only in
            // this container's mount namespace, which 'ip netns exec' creates.
            String target = quote(mount.getMountPath());
            script.append("mkdir -p ")
                    .append(target)
                    .append(" && mount --bind ")
                    .append(quote(source.toString()))
                    .append(' ')
                    .append(target)
                    .append('\n');
            if (Boolean.TRUE.equals(mount.getReadOnly())) {
                script.append("mount -o remount,bind,ro ").append(target).append('\n');
            }
        }
        script.append("exec \"$@\"\n");

        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns, "env", "-i"));
        env.forEach((k, v) -> command.add(k + "=" + v));
        command.addAll(List.of("sh", "-c", script.toString(), "sh"));
        command.addAll(setpriv(pod, container));
        if (container.getCommand() == null || container.getCommand().isEmpty()) {
            throw new AssertionError("container " + container.getName() + " has no command: the image's"
                    + " entrypoint cannot be stood in for");
        }
        container.getCommand().forEach(arg -> command.add(expand(arg, env)));
        if (container.getArgs() != null) {
            container.getArgs().forEach(arg -> command.add(expand(arg, env)));
        }
        return command;
    }

    private static List<String> setpriv(Pod pod, Container container) {
        SecurityContext context = container.getSecurityContext();
        PodSecurityContext podContext = pod.getSpec().getSecurityContext();
        Long uid = context != null && context.getRunAsUser() != null
                ? context.getRunAsUser()
                : podContext == null ? null : podContext.getRunAsUser();
        Long gid = context != null && context.getRunAsGroup() != null
                ? context.getRunAsGroup()
                : podContext == null ? null : podContext.getRunAsGroup();
        List<String> setpriv = new ArrayList<>(List.of(
                "setpriv",
                "--reuid=" + (uid == null ? 0 : uid),
                "--regid=" + (gid == null ? 0 : gid),
                "--clear-groups"));
        if (context != null && context.getCapabilities() != null) {
            List<String> drop = context.getCapabilities().getDrop();
            if (drop != null && drop.contains("ALL")) {
                StringBuilder bounding = new StringBuilder("--bounding-set=-all");
                List<String> add = context.getCapabilities().getAdd();
                if (add != null) {
                    add.forEach(cap -> bounding.append(",+").append(cap.toLowerCase(Locale.ROOT)));
                }
                setpriv.add(bounding.toString());
            }
        }
        if (context != null && Boolean.FALSE.equals(context.getAllowPrivilegeEscalation())) {
            setpriv.add("--no-new-privs");
        }
        return setpriv;
    }

    private Map<String, String> environment(Pod pod, Container container) {
        Map<String, String> env = new LinkedHashMap<>();
        // The image: its programs first, then the host's.
        env.put("PATH", imageBin + ":" + HOST_PATH);
        if (container.getEnv() != null) {
            for (EnvVar var : container.getEnv()) {
                if (var.getValue() != null) {
                    env.put(var.getName(), expand(var.getValue(), env));
                } else if (var.getValueFrom() != null && var.getValueFrom().getFieldRef() != null) {
                    String field = var.getValueFrom().getFieldRef().getFieldPath();
                    env.put(
                            var.getName(),
                            switch (field) {
                                case "metadata.name" -> pod.getMetadata().getName();
                                case "metadata.namespace" -> pod.getMetadata().getNamespace();
                                case "spec.serviceAccountName" -> pod.getSpec().getServiceAccountName();
                                default ->
                                    throw new AssertionError("env " + var.getName() + ": fieldRef " + field
                                            + " is not played by StoredPodRunner");
                            });
                } else {
                    throw new AssertionError("env " + var.getName() + " of container " + container.getName()
                            + " is not played by StoredPodRunner");
                }
            }
        }
        return env;
    }

    /** The kubelet's {@code $(VAR)} expansion: defined variables are replaced, {@code $$} is a literal {@code $}, the rest stays. */
    static String expand(String text, Map<String, String> env) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = m.group(1) == null ? "$" : env.getOrDefault(m.group(1), m.group());
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        return m.appendTail(out).toString();
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ
        };
        for (int bit = 0; bit < order.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                set.add(order[bit]);
            }
        }
        return set;
    }
}
