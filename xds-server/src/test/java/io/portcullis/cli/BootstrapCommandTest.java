package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.bootstrap.XdsEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code portcullis bootstrap} as an injector calls it: the file it writes is the bootstrap asked for. */
class BootstrapCommandTest {

    private static final SidecarNodeId NODE = new SidecarNodeId("curl", "curl", "curl-1");

    @TempDir
    Path dir;

    @Test
    void oneXdsHostAndPortGiveTheSingleControlPlaneBootstrap() throws Exception {
        Path out = dir.resolve("envoy.yaml");

        int exit = run("--xds-host", "10.0.0.5", "--xds-port", "15011", "-o", out.toString());

        assertThat(exit).isZero();
        assertThat(Files.readString(out)).isEqualTo(SidecarBootstrap.of(NODE, "10.0.0.5", 15011).toYaml());
    }

    @Test
    void repeatedOrCommaSeparatedXdsHostsListEveryControlPlaneWithItsOwnPortOrTheDefault() throws Exception {
        Path out = dir.resolve("envoy.yaml");

        int exit = run("--xds-host", "10.0.0.5", "--xds-host", "10.0.0.6:15011,[fd00::7]:15012", "-o", out.toString());

        assertThat(exit).isZero();
        assertThat(Files.readString(out)).isEqualTo(SidecarBootstrap.of(NODE, List.of(new XdsEndpoint("10.0.0.5", 15010),
                new XdsEndpoint("10.0.0.6", 15011), new XdsEndpoint("fd00::7", 15012))).toYaml());
    }

    @Test
    void aControlPlaneListedTwiceIsAnErrorAndWritesNothing() {
        Path out = dir.resolve("envoy.yaml");

        int exit = run("--xds-host", "10.0.0.5", "--xds-host", "10.0.0.5:15010", "-o", out.toString());

        assertThat(exit).isEqualTo(1);
        assertThat(out).doesNotExist();
    }

    private static int run(String... xdsArgs) {
        List<String> args = new java.util.ArrayList<>(List.of("bootstrap", "-n", "curl", "--service-account", "curl",
                "--pod", "curl-1"));
        args.addAll(List.of(xdsArgs));
        return new CommandLine(new PortcullisCommand()).execute(args.toArray(String[]::new));
    }
}
