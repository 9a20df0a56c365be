package io.portcullis.translator;

import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Finds and runs the real Envoy. A missing binary FAILS the test instead of skipping it: a skipped
 * validation is indistinguishable from a passing one in CI.
 */
public final class EnvoyProcess {

    static final String INSTALL_HINT = "run scripts/install-deps to install it";

    private EnvoyProcess() {}

    record Result(int exitCode, String output) {}

    /** $PORTCULLIS_ENVOY, else /usr/local/lib/portcullis/envoy, else envoy on PATH. */
    public static Path binary() {
        String configured = System.getenv("PORTCULLIS_ENVOY");
        if (configured != null && !configured.isBlank()) {
            Path path = Path.of(configured);
            if (!Files.isExecutable(path)) {
                fail("PORTCULLIS_ENVOY=" + configured + " is not an executable file; unset it or " + INSTALL_HINT);
            }
            return path;
        }
        Path bundled = Path.of("/usr/local/lib/portcullis/envoy");
        if (Files.isExecutable(bundled)) {
            return bundled;
        }
        return onPath("envoy")
                .orElseGet(() -> fail(
                        "Envoy not found (PORTCULLIS_ENVOY, /usr/local/lib/portcullis/envoy, PATH): " + INSTALL_HINT));
    }

    /** {@code envoy --mode validate}: parses the bootstrap and builds every static object, opening no socket. */
    static Result validate(Path config) {
        List<String> command = List.of(
                binary().toString(),
                "--mode",
                "validate",
                "--log-level",
                "warn",
                "--disable-hot-restart",
                "-c",
                config.toString());
        try {
            Process process =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return fail("timed out: " + command);
            }
            return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return fail("cannot run " + command + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted: " + command);
        }
    }

    private static Optional<Path> onPath(String name) {
        return java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, name))
                .filter(Files::isExecutable)
                .findFirst();
    }
}
