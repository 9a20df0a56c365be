package io.portcullis.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The lab built by {@code tests/netlab/netlab.sh}: pods as network namespaces on bridge pcl-br0 and an
 * "internet" namespace with httpbin.org, flomesh.io, an impostor, sshd and DNS, all in 198.18.0.0/24.
 */
final class NetworkLab implements AutoCloseable {

    static final String HOST_ADDRESS = "198.18.0.1";
    static final String HTTPBIN_IP = "198.18.0.80";
    static final String IMPOSTOR_IP = "198.18.0.66";
    static final String SSH_IP = "198.18.0.22";

    private final Path script;
    final Path stateDir;

    NetworkLab(Path script, Path stateDir) {
        this.script = script;
        this.stateDir = stateDir;
    }

    NetworkLab up() {
        ProcessRun.run(Duration.ofMinutes(2), null, List.of("bash", script.toString(), "up", stateDir.toString()))
                .orFail();
        return this;
    }

    Path caCertificate() {
        return stateDir.resolve("pki/ca.pem");
    }

    String impostorLog() throws java.io.IOException {
        return Files.readString(stateDir.resolve("impostor.log"));
    }

    /** gunicorn's access log of plain-HTTP httpbin.org: proof of whether a request reached it. */
    String httpbinAccessLog() throws java.io.IOException {
        return Files.readString(stateDir.resolve("httpbin-http.log"));
    }

    @Override
    public void close() {
        ProcessRun.run(Duration.ofMinutes(1), null, List.of("bash", script.toString(), "down", stateDir.toString()));
    }
}
