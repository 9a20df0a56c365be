package io.portcullis.bootstrap;

import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Finds and runs the real binaries the tests check against. A missing tool FAILS the test rather
 * than skipping it: a skipped validation is indistinguishable from a passing one in CI.
 */
final class ExternalTools {

    static final String INSTALL_HINT = "run scripts/install-deps to install it";

    private static final AtomicInteger NETNS_SEQ = new AtomicInteger();

    private ExternalTools() {}

    record Result(int exitCode, String output) {}

    /** $PORTCULLIS_ENVOY, else /usr/local/lib/portcullis/envoy, else envoy on PATH. */
    static Path envoy() {
        String configured = System.getenv("PORTCULLIS_ENVOY");
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured);
            if (!Files.isExecutable(p)) {
                fail("PORTCULLIS_ENVOY=" + configured + " is not an executable file; unset it or " + INSTALL_HINT);
            }
            return p;
        }
        Path bundled = Path.of("/usr/local/lib/portcullis/envoy");
        if (Files.isExecutable(bundled)) {
            return bundled;
        }
        return onPath("envoy", List.of())
                .orElseGet(() -> fail(
                        "Envoy not found (PORTCULLIS_ENVOY, /usr/local/lib/portcullis/envoy, PATH): " + INSTALL_HINT));
    }

    /** iptables tools live in sbin, which a non-root PATH often lacks. */
    static Path sbinTool(String name) {
        return onPath(name, List.of("/usr/sbin", "/sbin"))
                .orElseGet(() -> fail(name + " not found on PATH, /usr/sbin or /sbin: " + INSTALL_HINT));
    }

    private static java.util.Optional<Path> onPath(String name, List<String> extraDirs) {
        List<String> dirs =
                new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(extraDirs);
        return dirs.stream()
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, name))
                .filter(Files::isExecutable)
                .findFirst();
    }

    static Result run(List<String> command, Path stdin) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            if (stdin != null) {
                pb.redirectInput(stdin.toFile());
            }
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return fail("timed out: " + command);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return fail("cannot run " + command + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted: " + command);
        }
    }

    static Result run(List<String> command) {
        return run(command, null);
    }

    /**
     * A throwaway network namespace, so iptables rules are checked (and applied) against a real
     * kernel without touching the host's own firewall. Needs root / CAP_SYS_ADMIN.
     */
    static final class NetNs implements AutoCloseable {
        final String name;
        private final String ip;

        NetNs() {
            ip = sbinTool("ip").toString();
            name = "pcl-bt-" + ProcessHandle.current().pid() + "-" + NETNS_SEQ.incrementAndGet();
            Result added = run(List.of(ip, "netns", "add", name));
            if (added.exitCode() != 0) {
                fail("cannot create network namespace " + name + " (these tests need root on Linux): "
                        + added.output());
            }
        }

        Result exec(List<String> command, Path stdin) {
            List<String> full = new ArrayList<>(List.of(ip, "netns", "exec", name));
            full.addAll(command);
            return run(full, stdin);
        }

        @Override
        public void close() {
            run(List.of(ip, "netns", "del", name));
        }
    }
}
