package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Debian's {@code chromium}, headless, as a browser an operator would open the page in: it parses the HTML,
 * applies the Content-Security-Policy and builds the DOM. A missing binary FAILS the test: install it with
 * {@code scripts/install-deps}.
 */
record HeadlessChromium(Path binary, Path profile) {

    /** {@code $PORTCULLIS_CHROMIUM}, else {@code chromium} on PATH; a fresh profile under {@code workDir}. */
    static HeadlessChromium find(Path workDir) throws IOException {
        String configured = System.getenv("PORTCULLIS_CHROMIUM");
        Path binary = configured != null && !configured.isBlank()
                ? Path.of(configured)
                : Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                        .filter(dir -> !dir.isEmpty())
                        .map(dir -> Path.of(dir, "chromium"))
                        .filter(Files::isExecutable)
                        .findFirst()
                        .orElse(null);
        if (binary == null || !Files.isExecutable(binary)) {
            fail("chromium not found (PORTCULLIS_CHROMIUM or PATH): run scripts/install-deps, which installs"
                    + " Debian's chromium package");
        }
        return new HeadlessChromium(binary, Files.createDirectories(workDir.resolve("chromium-profile")));
    }

    /** The DOM after the page loaded, serialized ({@code --dump-dom}). */
    String dumpDom(String url) {
        ProcessRun run = ProcessRun.run(Duration.ofSeconds(90), null, command("--dump-dom", url));
        assertThat(run.exitCode())
                .as("chromium --dump-dom %s: %s", url, run.stderr())
                .isZero();
        assertThat(run.stdout()).as("chromium printed a DOM").contains("<html");
        return run.stdout();
    }

    /** A PNG of the page as a 1400 px wide window shows it. */
    Path screenshot(String url, Path png, int height) {
        ProcessRun run = ProcessRun.run(
                Duration.ofSeconds(90),
                null,
                command("--screenshot=" + png.toAbsolutePath(), "--window-size=1400," + height, url));
        assertThat(run.exitCode()).as("chromium --screenshot: %s", run.stderr()).isZero();
        assertThat(png).as("screenshot written").isNotEmptyFile();
        return png;
    }

    private List<String> command(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(
                binary.toString(),
                "--headless",
                // The tests run as root, where Chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--user-data-dir=" + profile.toAbsolutePath()));
        command.addAll(List.of(args));
        return command;
    }
}
