package io.portcullis.cli;

import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.bootstrap.XdsEndpoint;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.SpiffeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "bootstrap",
        mixinStandardHelpOptions = true,
        description = {
            "Print the Envoy bootstrap of a sidecar: node id with namespace and ServiceAccount, ADS cluster over mutual TLS,"
                    + " loopback admin.",
            "With --ca-dir (or --ca-cert/--ca-key) it also issues the sidecar's certificate into --cert-dir; without, the"
                    + " bootstrap refers to the files already there (mounted by Kubernetes, or from 'portcullis cert issue')."
        })
final class BootstrapCommand implements Callable<Integer> {

    @Option(
            names = {"-n", "--namespace"},
            required = true)
    String namespace;

    @Option(names = "--service-account", required = true)
    String serviceAccount;

    @Option(names = "--pod", required = true, description = "Pod name, to tell sidecars of one identity apart.")
    String pod;

    @Option(
            names = "--xds-host",
            required = true,
            split = ",",
            paramLabel = "HOST[:PORT]",
            description =
                    "Address or DNS name of a control plane, with its port unless it is --xds-port ([fd00::10]:15010 for IPv6)."
                            + " Repeat it (or separate with commas) to list several control planes: when the one a sidecar is"
                            + " connected to goes away, it reconnects to another within a second or two."
                            + " Each control plane's certificate must name the host given here.")
    List<String> xdsHosts;

    @Option(names = "--xds-port", defaultValue = "15010", description = "Port of the control planes given without one.")
    int xdsPort;

    @Option(names = "--admin-port", defaultValue = "15000", description = "Envoy admin port, bound to 127.0.0.1 only.")
    int adminPort;

    @Option(
            names = {"-o", "--output"},
            description = "Write to this file instead of standard output.")
    Path output;

    @Mixin
    CaOptions ca;

    @Mixin
    WorkloadCertificateOptions certs;

    @Option(
            names = "--insecure-plaintext-xds",
            description = "Development only: no TLS to the control plane (which must run"
                    + " 'serve --insecure-plaintext-xds' on loopback).")
    boolean plaintext;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SidecarBootstrap bootstrap;
        try {
            List<XdsEndpoint> xds = xdsHosts.stream()
                    .map(host -> XdsEndpoint.parse(host, xdsPort))
                    .toList();
            bootstrap = new SidecarBootstrap(
                    new SidecarNodeId(namespace, serviceAccount, pod),
                    xds,
                    adminPort,
                    SidecarBootstrap.DEFAULT_ADMIN_ADDRESS);
            if (plaintext) {
                if (certs.certDir != null || ca.given()) {
                    throw new IllegalArgumentException(
                            "--insecure-plaintext-xds takes no certificates; drop --cert-dir and the CA options");
                }
                System.err.println("WARNING: plaintext xDS: the control plane cannot authenticate this sidecar");
            } else {
                if (certs.certDir == null) {
                    throw new IllegalArgumentException(
                            "Missing required option: '--cert-dir' (the sidecar authenticates to the"
                                    + " control plane with the certificate there)");
                }
                Optional<CertificateAuthority> authority = ca.load(Clock.systemUTC());
                if (authority.isPresent()) {
                    certs.issue(authority.get(), new SpiffeId(ca.trustDomain, namespace, serviceAccount));
                }
                bootstrap = bootstrap.withXdsCertificates(certs.directory());
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
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
