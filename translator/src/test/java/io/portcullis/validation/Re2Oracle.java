package io.portcullis.validation;

import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

/**
 * Google's RE2 in Latin-1 mode (python google-re2, installed by scripts/install-deps), asked through
 * one long-lived python process. A missing python or module FAILS the test that uses it.
 */
final class Re2Oracle implements AutoCloseable {

    record Answer(boolean accepted, int programSize, String error) {}

    private final Process process;
    private final Writer toOracle;
    private final BufferedReader fromOracle;

    Re2Oracle() {
        Path script = Path.of(System.getProperty("basedir", "."), "src/test/resources/re2/oracle.py");
        try {
            process = new ProcessBuilder(python(), script.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
        } catch (IOException e) {
            throw new AssertionError("cannot start the RE2 oracle (" + script + "); run scripts/install-deps", e);
        }
        toOracle = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
        fromOracle = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    Answer ask(String pattern) {
        try {
            toOracle.write(HexFormat.of().formatHex(pattern.getBytes(StandardCharsets.UTF_8)) + "\n");
            toOracle.flush();
            String line = fromOracle.readLine();
            if (line == null) {
                return fail("the RE2 oracle exited (is google-re2 installed? run scripts/install-deps)");
            }
            return line.startsWith("OK ")
                    ? new Answer(true, Integer.parseInt(line.substring(3)), null)
                    : new Answer(false, -1, line.substring(4));
        } catch (IOException e) {
            return fail("the RE2 oracle failed (run scripts/install-deps): " + e);
        }
    }

    /** PORTCULLIS_PYTHON from the environment or from scripts/install-deps' env file, else python3. */
    private static String python() {
        String configured = System.getenv("PORTCULLIS_PYTHON");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        Path env = Path.of("/usr/local/lib/portcullis/env");
        if (Files.exists(env)) {
            try {
                List<String> lines = Files.readAllLines(env);
                for (String line : lines) {
                    if (line.startsWith("PORTCULLIS_PYTHON=")) {
                        return line.substring("PORTCULLIS_PYTHON=".length());
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return "python3";
    }

    @Override
    public void close() {
        try {
            toOracle.close();
        } catch (IOException e) {
            // the process is going away anyway
        }
        process.destroy();
    }
}
