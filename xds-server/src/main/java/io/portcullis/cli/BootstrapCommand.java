package io.portcullis.cli;

import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.bootstrap.XdsEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bootstrap", mixinStandardHelpOptions = true,
        description = "Print the Envoy bootstrap of a sidecar: node id with namespace and ServiceAccount, ADS cluster, loopback admin.")
final class BootstrapCommand implements Callable<Integer> {

    @Option(names = {"-n", "--namespace"}, required = true)
    String namespace;

    @Option(names = "--service-account", required = true)
    String serviceAccount;

    @Option(names = "--pod", required = true, description = "Pod name, to tell sidecars of one identity apart.")
    String pod;

    @Option(names = "--xds-host", required = true, split = ",", paramLabel = "HOST[:PORT]",
            description = "Address or DNS name of a control plane, with its port unless it is --xds-port ([fd00::10]:15010 for IPv6)."
                    + " Repeat it (or separate with commas) to list several control planes: when the one a sidecar is"
                    + " connected to goes away, it reconnects to another within a second or two.")
    List<String> xdsHosts;

    @Option(names = "--xds-port", defaultValue = "15010", description = "Port of the control planes given without one.")
    int xdsPort;

    @Option(names = "--admin-port", defaultValue = "15000", description = "Envoy admin port, bound to 127.0.0.1 only.")
    int adminPort;

    @Option(names = {"-o", "--output"}, description = "Write to this file instead of standard output.")
    Path output;

    @Override
    public Integer call() throws Exception {
        SidecarBootstrap bootstrap;
        try {
            List<XdsEndpoint> xds = xdsHosts.stream().map(host -> XdsEndpoint.parse(host, xdsPort)).toList();
            bootstrap = new SidecarBootstrap(new SidecarNodeId(namespace, serviceAccount, pod), xds,
                    adminPort, SidecarBootstrap.DEFAULT_ADMIN_ADDRESS);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
        String yaml = bootstrap.toYaml();
        if (output == null) {
            System.out.print(yaml);
        } else {
            Files.writeString(output, yaml);
        }
        return 0;
    }
}
