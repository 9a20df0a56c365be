package io.portcullis.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the rendered rules against the real iptables and kernel, each in a throwaway network
 * namespace so the host's firewall is never touched. Requires root on Linux and the iptables
 * package; a missing tool fails the test with a pointer to scripts/install-deps.
 */
@NeedsRoot
class IptablesKernelTest {

    private static final InterceptionRules RULES =
            new InterceptionRules(1337, 15001, List.of("10.0.0.0/8", "169.254.169.254/32"));

    @TempDir
    Path dir;

    @Test
    void iptablesRestoreTestAcceptsTheRenderedText() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules"), RULES.toIptablesRestore());
        try (var ns = new ExternalTools.NetNs()) {
            ExternalTools.Result result = ns.exec(List.of(restore(), "--test", "--noflush"), rules);
            assertThat(result.exitCode())
                    .as("iptables-restore --test output:%n%s", result.output())
                    .isZero();
        }
    }

    /** Negative control: proves iptables-restore --test actually rejects bad input here. */
    @Test
    void iptablesRestoreTestRejectsABrokenRule() throws IOException {
        Path rules = Files.writeString(
                dir.resolve("rules"), RULES.toIptablesRestore().replace("--to-ports 15001", "--to-ports not-a-port"));
        try (var ns = new ExternalTools.NetNs()) {
            ExternalTools.Result result = ns.exec(List.of(restore(), "--test", "--noflush"), rules);
            assertThat(result.exitCode())
                    .as("iptables-restore output:%n%s", result.output())
                    .isNotZero();
            assertThat(result.output()).contains("not-a-port");
        }
    }

    /**
     * Both renderings, applied for real to two fresh namespaces, must leave identical nat tables;
     * re-applying the restore text must only add a duplicate OUTPUT jump, never duplicate our chain.
     */
    @Test
    void restoreTextAndCommandsProduceTheSameNatTable() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules"), RULES.toIptablesRestore());
        String iptables = ExternalTools.sbinTool("iptables").toString();
        String viaRestore;
        String reapplied;
        String viaCommands;
        try (var ns = new ExternalTools.NetNs()) {
            assertOk(ns.exec(List.of(restore(), "--noflush"), rules));
            viaRestore = assertOk(ns.exec(List.of(iptables, "-t", "nat", "-S"), null))
                    + assertOk(ns.exec(List.of(iptables, "-t", "filter", "-S"), null));
            assertOk(ns.exec(List.of(restore(), "--noflush"), rules));
            reapplied = assertOk(ns.exec(List.of(iptables, "-t", "nat", "-S"), null));
        }
        try (var ns = new ExternalTools.NetNs()) {
            for (List<String> command : RULES.toIptablesCommands()) {
                List<String> argv = new java.util.ArrayList<>(command);
                argv.set(0, iptables);
                assertOk(ns.exec(argv, null));
            }
            viaCommands = assertOk(ns.exec(List.of(iptables, "-t", "nat", "-S"), null))
                    + assertOk(ns.exec(List.of(iptables, "-t", "filter", "-S"), null));
        }

        assertThat(viaRestore).isEqualTo(viaCommands);
        assertThat(viaRestore)
                .contains(
                        "-A PORTCULLIS_OUTBOUND -m owner --uid-owner 1337 -j RETURN",
                        "-A PORTCULLIS_OUTBOUND -p tcp -j REDIRECT --to-ports 15001");
        assertThat(reapplied
                        .lines()
                        .filter(l -> l.startsWith("-A PORTCULLIS_OUTBOUND"))
                        .count())
                .isEqualTo(viaRestore
                        .lines()
                        .filter(l -> l.startsWith("-A PORTCULLIS_OUTBOUND"))
                        .count());
        assertThat(reapplied.lines().filter(l -> l.startsWith("-A OUTPUT")).count())
                .isEqualTo(2);
    }

    /**
     * The app's UDP is refused except DNS; Envoy's uid is let through. The route points at a veth pair
     * whose both ends stay in the throwaway namespace, so nothing leaves it: an unrefused datagram
     * just goes unanswered.
     */
    @Test
    void udpOfTheAppIsRefusedButDnsAndEnvoysAreNot() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules"), RULES.toIptablesRestore());
        String ip = ExternalTools.sbinTool("ip").toString();
        String probe = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        s.connect((sys.argv[1], int(sys.argv[2])))
        try:
            s.send(b"x"); s.recv(1); print("answered")
        except ConnectionRefusedError:
            print("refused")
        except PermissionError:
            print("refused")
        except socket.timeout:
            print("unanswered")
        """;
        try (var ns = new ExternalTools.NetNs()) {
            assertOk(ns.exec(List.of(ip, "link", "set", "lo", "up"), null));
            assertOk(ns.exec(List.of(ip, "link", "add", "pcl4a", "type", "veth", "peer", "name", "pcl4b"), null));
            assertOk(ns.exec(List.of(ip, "link", "set", "pcl4a", "up"), null));
            assertOk(ns.exec(List.of(ip, "link", "set", "pcl4b", "up"), null));
            assertOk(ns.exec(List.of(ip, "addr", "add", "198.19.99.1/24", "dev", "pcl4a"), null));
            assertOk(ns.exec(List.of(restore(), "--noflush"), rules));

            assertThat(assertOk(ns.exec(List.of("/usr/bin/python3", "-c", probe, "198.19.99.2", "443"), null)))
                    .as("the app's UDP (QUIC to 443)")
                    .contains("refused");
            assertThat(assertOk(ns.exec(List.of("/usr/bin/python3", "-c", probe, "198.19.99.2", "53"), null)))
                    .as("the app's DNS")
                    .contains("unanswered");
            assertThat(assertOk(ns.exec(
                            List.of(
                                    "setpriv",
                                    "--reuid=1337",
                                    "--regid=1337",
                                    "--clear-groups",
                                    "/usr/bin/python3",
                                    "-c",
                                    probe,
                                    "198.19.99.2",
                                    "443"),
                            null)))
                    .as("Envoy's UDP")
                    .contains("unanswered");
        }
    }

    /**
     * IPv6 fails closed: the app's TCP to an IPv6 address is reset at once, while Envoy's uid is let
     * through. The route points at a veth pair whose both ends stay in the throwaway namespace
     * (2001:2::/48, the IPv6 benchmarking range): nothing leaves it, and an unrefused SYN goes unanswered.
     */
    @Test
    void ipv6EgressOfTheAppIsRefusedButEnvoysIsNot() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules6"), RULES.toIp6tablesRestore());
        String ip = ExternalTools.sbinTool("ip").toString();
        try (var ns = new ExternalTools.NetNs()) {
            // The reset reaches the app over loopback, which is up in every real pod.
            assertOk(ns.exec(List.of(ip, "link", "set", "lo", "up"), null));
            assertOk(ns.exec(List.of(ip, "link", "add", "pcl6a", "type", "veth", "peer", "name", "pcl6b"), null));
            assertOk(ns.exec(List.of(ip, "link", "set", "pcl6a", "up"), null));
            assertOk(ns.exec(List.of(ip, "link", "set", "pcl6b", "up"), null));
            assertOk(ns.exec(List.of(ip, "-6", "addr", "add", "2001:2::1/48", "dev", "pcl6a", "nodad"), null));
            assertOk(ns.exec(List.of(ExternalTools.sbinTool("ip6tables-restore").toString(), "--noflush"), rules));

            ExternalTools.Result app =
                    ns.exec(List.of("curl", "-sS", "-g", "--max-time", "2", "http://[2001:2::2]:80/"), null);
            assertThat(app.exitCode())
                    .as("the app's IPv6 connection is refused (curl exit 7):%n%s", app.output())
                    .isEqualTo(7);

            ExternalTools.Result envoy = ns.exec(
                    List.of(
                            "setpriv",
                            "--reuid=1337",
                            "--regid=1337",
                            "--clear-groups",
                            "curl",
                            "-sS",
                            "-g",
                            "--max-time",
                            "1",
                            "http://[2001:2::2]:80/"),
                    null);
            assertThat(envoy.exitCode())
                    .as("Envoy's uid is not refused; its SYN goes unanswered (curl exit 28):%n%s", envoy.output())
                    .isEqualTo(28);
        }
    }

    private static String restore() {
        return ExternalTools.sbinTool("iptables-restore").toString();
    }

    private static String assertOk(ExternalTools.Result result) {
        assertThat(result.exitCode()).as("output:%n%s", result.output()).isZero();
        return result.output();
    }
}
