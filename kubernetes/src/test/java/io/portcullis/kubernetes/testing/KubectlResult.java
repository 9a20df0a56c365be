package io.portcullis.kubernetes.testing;

/** What one kubectl run printed, and how it exited. */
public record KubectlResult(int exitCode, String stdout, String stderr) {

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Fails with everything kubectl printed unless it exited 0; returns stdout. */
    public String orThrow() {
        if (!succeeded()) {
            throw new IllegalStateException(
                    "kubectl exited " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
        }
        return stdout;
    }
}
