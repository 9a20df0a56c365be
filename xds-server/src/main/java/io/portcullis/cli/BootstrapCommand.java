package io.portcullis.cli;

import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarNodeId;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.SpiffeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bootstrap", mixinStandardHelpOptions = true,
        description = {"Print the Envoy bootstrap of a sidecar: node id with namespace and ServiceAccount, ADS cluster over mutual TLS,"
                + " loopback admin.",
                "With --ca-dir (or --ca-cert/--ca-key) it also issues the sidecar's certificate into --cert-dir; without, the"
                        + " bootstrap refers to the files already there (mounted by Kubernetes, or from 'portcullis cert issue')."})
final class BootstrapCommand implements Callable<Integer> {

    @Option(names = {"-n", "--namespace"}, required = true)
    String namespace;

    @Option(names = "--service-account", required = true)
    String serviceAccount;

    @Option(names = "--pod", required = true, description = "Pod name, to tell sidecars of one identity apart.")
    String pod;

    @Option(names = "--xds-host", required = true, description = "Address or DNS name of the control plane; its certificate must name it.")
    String xdsHost;

    @Option(names = "--xds-port", defaultValue = "15010")
    int xdsPort;

    @Option(names = "--admin-port", defaultValue = "15000", description = "Envoy admin port, bound to 127.0.0.1 only.")
    int adminPort;

    @Option(names = {"-o", "--output"}, description = "Write to this file instead of standard output.")
    Path output;

    @Mixin
    CaOptions ca;

    @Mixin
    WorkloadCertificateOptions certs;

    @Option(names = "--insecure-plaintext-xds", description = "Development only: no TLS to the control plane (which must run"
            + " 'serve --insecure-plaintext-xds' on loopback).")
    boolean plaintext;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SidecarBootstrap bootstrap;
        try {
            bootstrap = new SidecarBootstrap(new SidecarNodeId(namespace, serviceAccount, pod), xdsHost, xdsPort,
                    adminPort, SidecarBootstrap.DEFAULT_ADMIN_ADDRESS);
            if (plaintext) {
                if (certs.certDir != null || ca.given()) {
                    throw new IllegalArgumentException("--insecure-plaintext-xds takes no certificates; drop --cert-dir and the CA options");
                }
                System.err.println("WARNING: plaintext xDS: the control plane cannot authenticate this sidecar");
            } else {
                if (certs.certDir == null) {
                    throw new IllegalArgumentException("Missing required option: '--cert-dir' (the sidecar authenticates to the"
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
