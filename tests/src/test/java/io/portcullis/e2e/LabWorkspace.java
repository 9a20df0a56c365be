package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * What every end-to-end test starts from: root, a work directory the sidecars can read, the network lab
 * up, and the packaged CLI writing to a config directory in it.
 */
record LabWorkspace(Path workDir, NetworkLab lab, PortcullisCli cli) {

    /** @param name part of the work directory's name, so each test's files are easy to find */
    static LabWorkspace open(String name) throws Exception {
        assertThat(ProcessRun.run("id", "-u").stdout().trim())
                .as("the end-to-end test builds network namespaces and iptables rules: run it as root")
                .isEqualTo("0");
        // World-readable, outside any private home: the sidecars run as UID 1337 and read their bootstrap here.
        Path workDir = Files.createTempDirectory(Path.of("/tmp"), "portcullis-" + name + "-");
        Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        NetworkLab lab = new NetworkLab(
                        Path.of(System.getProperty("portcullis.netlab", "netlab/netlab.sh")), workDir.resolve("lab"))
                .up();
        Path jar = Path.of(System.getProperty("portcullis.jar", "../cli/target/portcullis.jar"));
        assertThat(jar).as("the packaged CLI; build it with mvn package").exists();
        return new LabWorkspace(workDir, lab, new PortcullisCli(jar, workDir.resolve("config")));
    }
}
