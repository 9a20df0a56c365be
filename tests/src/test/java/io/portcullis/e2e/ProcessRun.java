package io.portcullis.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion with a deadline; output is captured through files so it can never block. */
record ProcessRun(List<String> command, int exitCode, String stdout, String stderr) {

    static ProcessRun run(Duration timeout, String stdin, List<String> command) {
        try {
            Path out = Files.createTempFile("pcl-out", ".txt");
            Path err = Files.createTempFile("pcl-err", ".txt");
            try {
                ProcessBuilder builder =
                        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
                Process process = builder.start();
                try (var in = process.getOutputStream()) {
                    if (stdin != null) {
                        in.write(stdin.getBytes(StandardCharsets.UTF_8));
                    }
                }
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor();
                    throw new AssertionError(
                            "command did not finish within " + timeout + ": " + String.join(" ", command));
                }
                return new ProcessRun(command, process.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    static ProcessRun run(String... command) {
        return run(Duration.ofSeconds(60), null, List.of(command));
    }

    /** Stops a long-running child: SIGTERM, then SIGKILL after a grace period. */
    static void stop(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A child's log file, for failure messages. */
    static String readLog(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    ProcessRun orFail() {
        if (exitCode != 0) {
            throw new AssertionError("'" + String.join(" ", command) + "' exited " + exitCode + "\nstdout: " + stdout
                    + "\nstderr: " + stderr);
        }
        return this;
    }
}
