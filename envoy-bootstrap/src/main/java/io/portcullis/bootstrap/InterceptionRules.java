package io.portcullis.bootstrap;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The iptables rules the init container applies in the pod's network namespace so that the app's
 * outbound TCP is forced through Envoy's outbound listener, where egress policy is enforced.
 *
 * <p>Rendered two ways from one rule list, so they cannot disagree: {@link #toIptablesRestore()}
 * for {@code iptables-restore --noflush} and {@link #toIptablesCommands()} for images that only
 * have the {@code iptables} binary. The app's UDP, which Envoy does not proxy, is refused except
 * DNS. IPv6 is not redirected (the outbound listener is IPv4): instead
 * {@link #toIp6tablesRestore()} refuses the app's outbound IPv6 TCP, so a dual-stack pod cannot go
 * around Envoy over IPv6; clients fall back to IPv4, which is policed.
 *
 * @param proxyUid the uid Envoy runs as; its own connections must not be redirected back to itself
 * @param outboundPort Envoy's outbound listener port (delivered over xDS)
 * @param excludedCidrs IPv4 networks reached directly, bypassing Envoy, in canonical form ({@code 10.0.0.0/8}):
 *     cluster-internal destinations (pod and service CIDRs, FSM's {@code outboundIPRangeExclusionList}),
 *     which are not egress
 * @param excludedPorts destination ports reached directly, bypassing Envoy, whatever the address (FSM's
 *     {@code outboundPortExclusionList}), in ascending order, none twice
 */
public record InterceptionRules(
        int proxyUid, int outboundPort, List<String> excludedCidrs, List<Integer> excludedPorts) {

    public static final String CHAIN = "PORTCULLIS_OUTBOUND";

    private static final Pattern CIDR = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})");

    /** Chain in the filter table that refuses the app's UDP, which Envoy does not proxy. */
    public static final String UDP_CHAIN = "PORTCULLIS_UDP";

    /** One rule and the reason it exists; {@code args} are what follows {@code iptables -t <table>}. */
    private record Rule(String table, String why, List<String> args) {}

    public InterceptionRules {
        // uid 0 would exempt every root process in the pod from interception, i.e. from egress policy.
        if (proxyUid < 1) {
            throw new IllegalArgumentException("proxyUid " + proxyUid
                    + " must be a dedicated non-root uid: traffic from that uid bypasses interception");
        }
        if (outboundPort < 1 || outboundPort > 65535) {
            throw new IllegalArgumentException("outboundPort " + outboundPort + " is outside 1-65535");
        }
        Objects.requireNonNull(excludedCidrs, "excludedCidrs must not be null");
        excludedCidrs = List.copyOf(excludedCidrs);
        excludedCidrs.forEach(InterceptionRules::checkCidr);
        Objects.requireNonNull(excludedPorts, "excludedPorts must not be null");
        excludedPorts = List.copyOf(new TreeSet<>(excludedPorts));
        for (int port : excludedPorts) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("excluded port " + port + " is outside 1-65535");
            }
            if (port == outboundPort) {
                // Harmless for the redirect, but it says the operator misunderstood what the port is.
                throw new IllegalArgumentException("excluded port " + port + " is Envoy's outbound port");
            }
        }
    }

    /** No excluded ports. */
    public InterceptionRules(int proxyUid, int outboundPort, List<String> excludedCidrs) {
        this(proxyUid, outboundPort, excludedCidrs, List.of());
    }

    /** Envoy's outbound listener on {@link SidecarContract#OUTBOUND_PORT}, nothing excluded. */
    public static InterceptionRules of(int proxyUid) {
        return new InterceptionRules(proxyUid, SidecarContract.OUTBOUND_PORT, List.of());
    }

    /**
     * Input for {@code iptables-restore --noflush}: our own chains in the nat table (TCP redirect) and
     * the filter table (UDP refusal); other chains and the built-in chains' policies are untouched.
     */
    public String toIptablesRestore() {
        StringBuilder out = new StringBuilder()
                .append("# Portcullis sidecar traffic interception. Apply with: iptables-restore --noflush\n")
                .append("# --noflush leaves every other table and chain alone. Declaring our chains below\n")
                .append("# empties just those chains, so re-applying replaces their rules; only the OUTPUT jumps\n")
                .append(
                        "# are appended again, and a duplicate jump is harmless (our chains only RETURN, REDIRECT or REJECT).\n");
        for (String table : List.of("nat", "filter")) {
            out.append('*')
                    .append(table)
                    .append('\n')
                    .append(':')
                    .append(chainOf(table))
                    .append(" - [0:0]\n");
            for (Rule rule : rules()) {
                if (rule.table().equals(table)) {
                    out.append("# ")
                            .append(rule.why())
                            .append('\n')
                            .append(String.join(" ", rule.args()))
                            .append('\n');
                }
            }
            out.append("COMMIT\n");
        }
        return out.toString();
    }

    /**
     * Input for {@code ip6tables-restore --noflush}: in the filter table, the app's outbound IPv6 TCP and
     * UDP are refused at once (fail closed), except loopback, DNS and Envoy's own connections.
     */
    public String toIp6tablesRestore() {
        String uid = Integer.toString(proxyUid);
        return "# Portcullis: IPv6 egress is not redirected to Envoy, so it is refused instead of bypassing\n"
                + "# egress policy. Apply with: ip6tables-restore --noflush\n"
                + "*filter\n"
                + ':' + CHAIN + " - [0:0]\n"
                + "-A OUTPUT -p tcp -j " + CHAIN + "\n"
                + "-A OUTPUT -p udp -j " + CHAIN + "\n"
                + "# Envoy's own upstream connections may use IPv6.\n"
                + "-A " + CHAIN + " -m owner --uid-owner " + uid + " -j RETURN\n"
                + "# Connections within the pod (loopback) are not egress.\n"
                + "-A " + CHAIN + " -o lo -j RETURN\n"
                + "-A " + CHAIN + " -d ::1/128 -j RETURN\n"
                + "# Name resolution keeps working.\n"
                + "-A " + CHAIN + " -p udp --dport 53 -j RETURN\n"
                + "# Everything else: refused at once, so clients fall back to IPv4 TCP instead of hanging.\n"
                + "-A " + CHAIN + " -p tcp -j REJECT --reject-with tcp-reset\n"
                + "-A " + CHAIN + " -p udp -j REJECT --reject-with icmp6-port-unreachable\n"
                + "COMMIT\n";
    }

    /** Equivalent full argument vectors, each starting with {@code iptables}, to run in order. */
    public List<List<String>> toIptablesCommands() {
        List<List<String>> commands = new ArrayList<>();
        for (String table : List.of("nat", "filter")) {
            commands.add(List.of("iptables", "-t", table, "-N", chainOf(table)));
            for (Rule rule : rules()) {
                if (rule.table().equals(table)) {
                    List<String> command = new ArrayList<>(List.of("iptables", "-t", table));
                    command.addAll(rule.args());
                    commands.add(List.copyOf(command));
                }
            }
        }
        return List.copyOf(commands);
    }

    private static String chainOf(String table) {
        return table.equals("nat") ? CHAIN : UDP_CHAIN;
    }

    private List<Rule> rules() {
        List<Rule> rules = new ArrayList<>();
        rules.add(new Rule(
                "nat",
                "All locally generated TCP goes through our chain. UDP is not proxied: see the filter"
                        + " table below.",
                List.of("-A", "OUTPUT", "-p", "tcp", "-j", CHAIN)));
        rules.add(new Rule(
                "nat",
                "Envoy's own upstream connections must leave the pod, not loop back into Envoy.",
                List.of("-A", CHAIN, "-m", "owner", "--uid-owner", Integer.toString(proxyUid), "-j", "RETURN")));
        rules.add(new Rule(
                "nat",
                "Connections within the pod (loopback) are not egress.",
                List.of("-A", CHAIN, "-o", "lo", "-j", "RETURN")));
        rules.add(new Rule(
                "nat",
                "Loopback destinations are not egress, whatever interface the route picks.",
                List.of("-A", CHAIN, "-d", "127.0.0.0/8", "-j", "RETURN")));
        for (String cidr : excludedCidrs) {
            rules.add(new Rule(
                    "nat",
                    "Excluded by configuration: reached directly, without egress policy.",
                    List.of("-A", CHAIN, "-d", cidr, "-j", "RETURN")));
        }
        for (int port : excludedPorts) {
            rules.add(new Rule(
                    "nat",
                    "Port excluded by configuration: reached directly, without egress policy.",
                    List.of("-A", CHAIN, "-p", "tcp", "--dport", Integer.toString(port), "-j", "RETURN")));
        }
        rules.add(new Rule(
                "nat",
                "Everything else is redirected to Envoy's outbound listener, which enforces" + " egress policy.",
                List.of("-A", CHAIN, "-p", "tcp", "-j", "REDIRECT", "--to-ports", Integer.toString(outboundPort))));
        String uid = Integer.toString(proxyUid);
        rules.add(new Rule(
                "filter",
                "The app's UDP goes through our chain: Envoy proxies TCP only, so UDP (QUIC, say) would"
                        + " leave the pod unpoliced.",
                List.of("-A", "OUTPUT", "-p", "udp", "-j", UDP_CHAIN)));
        rules.add(new Rule(
                "filter",
                "Envoy's own UDP (its DNS lookups) is not the app's egress.",
                List.of("-A", UDP_CHAIN, "-m", "owner", "--uid-owner", uid, "-j", "RETURN")));
        rules.add(new Rule(
                "filter",
                "UDP within the pod (loopback) is not egress.",
                List.of("-A", UDP_CHAIN, "-o", "lo", "-j", "RETURN")));
        rules.add(new Rule(
                "filter",
                "Name resolution keeps working: DNS goes straight to the resolver.",
                List.of("-A", UDP_CHAIN, "-p", "udp", "--dport", "53", "-j", "RETURN")));
        for (String cidr : excludedCidrs) {
            rules.add(new Rule(
                    "filter",
                    "Excluded by configuration: reached directly, without egress policy.",
                    List.of("-A", UDP_CHAIN, "-d", cidr, "-j", "RETURN")));
        }
        for (int port : excludedPorts) {
            rules.add(new Rule(
                    "filter",
                    "Port excluded by configuration: reached directly, without egress policy.",
                    List.of("-A", UDP_CHAIN, "-p", "udp", "--dport", Integer.toString(port), "-j", "RETURN")));
        }
        rules.add(new Rule(
                "filter",
                "Any other UDP is refused at once, so clients fall back to TCP, which is policed.",
                List.of("-A", UDP_CHAIN, "-p", "udp", "-j", "REJECT", "--reject-with", "icmp-port-unreachable")));
        return rules;
    }

    private static void checkCidr(String cidr) {
        Matcher m = CIDR.matcher(cidr);
        if (!m.matches()) {
            throw new IllegalArgumentException("excluded CIDR '" + cidr
                    + "' is not an IPv4 CIDR like 10.0.0.0/8 (IPv6 is not intercepted by these rules)");
        }
        long address = 0;
        for (int i = 1; i <= 4; i++) {
            int octet = Integer.parseInt(m.group(i));
            if (octet > 255 || (m.group(i).length() > 1 && m.group(i).startsWith("0"))) {
                throw new IllegalArgumentException("excluded CIDR '" + cidr + "' has an invalid octet " + m.group(i));
            }
            address = (address << 8) | octet;
        }
        int prefix = Integer.parseInt(m.group(5));
        // /0 would exclude everything, silently turning egress enforcement off.
        if (prefix < 1 || prefix > 32) {
            throw new IllegalArgumentException(
                    "excluded CIDR '" + cidr + "' has prefix length " + prefix + ", expected 1-32");
        }
        long hostMask = (1L << (32 - prefix)) - 1;
        // iptables would silently mask host bits; a CIDR like 10.1.2.3/8 is almost certainly a typo.
        if ((address & hostMask) != 0) {
            throw new IllegalArgumentException(
                    "excluded CIDR '" + cidr + "' has host bits set; did you mean the network address?");
        }
    }
}
