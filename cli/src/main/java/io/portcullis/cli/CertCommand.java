package io.portcullis.cli;

import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.IssuedCertificate;
import io.portcullis.identity.SpiffeId;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "cert",
        mixinStandardHelpOptions = true,
        description = "Workload certificates from the mesh CA.",
        subcommands = {CertCommand.Issue.class, CommandLine.HelpCommand.class})
final class CertCommand {

    @Command(
            name = "issue",
            mixinStandardHelpOptions = true,
            description =
                    "Issue (or renew) a sidecar's SPIFFE certificate into its certificate directory. The new set replaces"
                            + " the old one atomically; a running Envoy picks it up without a restart.")
    static final class Issue implements Callable<Integer> {

        @Option(
                names = {"-n", "--namespace"},
                required = true)
        String namespace;

        @Option(names = "--service-account", required = true)
        String serviceAccount;

        @Mixin
        CaOptions ca;

        @Mixin
        WorkloadCertificateOptions certs;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            if (certs.certDir == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--cert-dir'");
            }
            CertificateAuthority authority;
            SpiffeId id;
            try {
                authority = ca.load(Clock.systemUTC())
                        .orElseThrow(() -> new IllegalArgumentException(
                                "no CA: pass --ca-dir DIR or --ca-cert FILE --ca-key FILE"));
                id = new SpiffeId(ca.trustDomain, namespace, serviceAccount);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            IssuedCertificate issued = certs.issue(authority, id);
            System.out.println("issued " + id + " serial " + issued.serialHex() + " valid until "
                    + issued.certificate().getNotAfter().toInstant() + " into "
                    + certs.directory().dir());
            return 0;
        }
    }
}
