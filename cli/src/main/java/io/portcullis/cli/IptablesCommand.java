package io.portcullis.cli;

import io.portcullis.bootstrap.InterceptionRules;
import io.portcullis.bootstrap.SidecarContract;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "iptables",
        mixinStandardHelpOptions = true,
        description =
                "Print the iptables rules an init container applies in the pod network namespace: every outbound TCP "
                        + "connection except the sidecar's own and loopback is redirected to the sidecar's outbound port.")
final class IptablesCommand implements Callable<Integer> {

    enum Format {
        restore,
        commands
    }

    enum Family {
        ipv4,
        ipv6
    }

    @Option(
            names = "--proxy-uid",
            defaultValue = "" + SidecarContract.DEFAULT_PROXY_UID,
            description = "UID the sidecar runs as (default: ${DEFAULT-VALUE}).")
    int proxyUid;

    @Option(
            names = "--outbound-port",
            defaultValue = "" + SidecarContract.OUTBOUND_PORT,
            description =
                    "Must be ${DEFAULT-VALUE}, the port of the outbound listener every sidecar is served; kept so "
                            + "that scripts passing it still work.")
    int outboundPort;

    @Option(
            names = "--exclude-cidr",
            split = ",",
            description = "IPv4 destination range reached directly, never redirected: cluster-internal"
                    + " destinations such as the pod and service CIDRs (repeatable, or comma-separated).")
    List<String> excludedCidrs = List.of();

    @Option(
            names = "--exclude-port",
            split = ",",
            description = "Destination port reached directly at any address, never redirected"
                    + " (repeatable, or comma-separated).")
    List<Integer> excludedPorts = List.of();

    @Option(
            names = "--format",
            defaultValue = "restore",
            description = "restore (iptables-restore input) or commands (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(
            names = "--family",
            defaultValue = "ipv4",
            description =
                    "ipv4: redirect to the sidecar (iptables); "
                            + "ipv6: refuse the app's IPv6 TCP, which is not redirected (ip6tables-restore) (default: ${DEFAULT-VALUE}).")
    Family family;

    @Override
    public Integer call() {
        if (outboundPort != SidecarContract.OUTBOUND_PORT) {
            // Rules for another port would redirect every outbound connection to a port no listener binds:
            // the app could reach nothing, and no policy would be enforced or logged.
            System.err.println(
                    "error: --outbound-port " + outboundPort + ": the sidecar's outbound listener binds port "
                            + SidecarContract.OUTBOUND_PORT + " only (it comes over xDS, the same for every sidecar); "
                            + "omit --outbound-port or pass " + SidecarContract.OUTBOUND_PORT);
            return 1;
        }
        InterceptionRules rules;
        try {
            rules = new InterceptionRules(proxyUid, SidecarContract.OUTBOUND_PORT, excludedCidrs, excludedPorts);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
        if (family == Family.ipv6) {
            if (format != Format.restore) {
                System.err.println(
                        "error: --family ipv6 is printed only as ip6tables-restore input (--format restore)");
                return 1;
            }
            System.out.print(rules.toIp6tablesRestore());
        } else if (format == Format.restore) {
            System.out.print(rules.toIptablesRestore());
        } else {
            rules.toIptablesCommands().forEach(command -> System.out.println(String.join(" ", command)));
        }
        return 0;
    }
}
