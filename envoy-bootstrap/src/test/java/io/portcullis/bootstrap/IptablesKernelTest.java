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

    /**
     * Cluster-internal destinations bypass Envoy: from a pod namespace joined by a veth to a "cluster"
     * namespace, TCP to an excluded range or an excluded port reaches the server there directly, while
     * TCP to any other address is redirected to the stand-in for Envoy on the outbound port.
     */
    @Test
    void excludedRangeAndPortBypassTheRedirectAndOtherDestinationsAreIntercepted() throws Exception {
        InterceptionRules rules = new InterceptionRules(1337, 15001, List.of("198.19.97.0/24"), List.of(8443));
        Path file = Files.writeString(dir.resolve("rules"), rules.toIptablesRestore());
        String ip = ExternalTools.sbinTool("ip").toString();
        try (var pod = new ExternalTools.NetNs();
                var cluster = new ExternalTools.NetNs()) {
            assertOk(pod.exec(List.of(ip, "link", "set", "lo", "up"), null));
            assertOk(pod.exec(List.of(ip, "link", "add", "pcl7a", "type", "veth", "peer", "name", "pcl7b"), null));
            assertOk(pod.exec(List.of(ip, "link", "set", "pcl7b", "netns", cluster.name), null));
            assertOk(pod.exec(List.of(ip, "addr", "add", "198.19.97.1/24", "dev", "pcl7a"), null));
            assertOk(pod.exec(List.of(ip, "addr", "add", "198.19.96.1/24", "dev", "pcl7a"), null));
            assertOk(pod.exec(List.of(ip, "link", "set", "pcl7a", "up"), null));
            assertOk(cluster.exec(List.of(ip, "link", "set", "lo", "up"), null));
            assertOk(cluster.exec(List.of(ip, "addr", "add", "198.19.97.2/24", "dev", "pcl7b"), null));
            assertOk(cluster.exec(List.of(ip, "addr", "add", "198.19.96.2/24", "dev", "pcl7b"), null));
            assertOk(cluster.exec(List.of(ip, "link", "set", "pcl7b", "up"), null));
            assertOk(pod.exec(List.of(restore(), "--noflush"), file));

            Process server = answering(cluster, "direct", 80, 8443);
            Process envoy = answering(pod, "intercepted", 15001);
            try {
                assertThat(fetch(pod, "http://198.19.97.2:80/"))
                        .as("TCP to the excluded range 198.19.97.0/24")
                        .isEqualTo("direct");
                assertThat(fetch(pod, "http://198.19.96.2:80/"))
                        .as("TCP to 198.19.96.2, not excluded")
                        .isEqualTo("intercepted");
                assertThat(fetch(pod, "http://198.19.96.2:8443/"))
                        .as("TCP to the excluded port 8443 of an address that is not excluded")
                        .isEqualTo("direct");
            } finally {
                server.destroyForcibly().waitFor();
                envoy.destroyForcibly().waitFor();
            }
        }
    }

    /** A server in the namespace answering every HTTP request on these ports with {@code body}. */
    private static Process answering(ExternalTools.NetNs ns, String body, int... ports) throws IOException {
        String script = """
        import socket, sys, threading
        body = sys.argv[1].encode()
        def serve(port):
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port)); s.listen(16)
            while True:
                c, _ = s.accept(); c.recv(4096)
                c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n%s" % (len(body), body)); c.close()
        for p in sys.argv[2:]:
            threading.Thread(target=serve, args=(int(p),), daemon=True).start()
        threading.Event().wait()
        """;
        List<String> command = new java.util.ArrayList<>(List.of(
                ExternalTools.sbinTool("ip").toString(),
                "netns",
                "exec",
                ns.name,
                "/usr/bin/python3",
                "-c",
                script,
                body));
        for (int port : ports) {
            command.add(Integer.toString(port));
        }
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    /**
     * The body curl gets from inside the namespace: its last line, after the errors of attempts made while the
     * servers were still starting (curl retries those).
     */
    private static String fetch(ExternalTools.NetNs ns, String url) {
        String output = assertOk(ns.exec(
                List.of(
                        "curl",
                        "-sS",
                        "--max-time",
                        "3",
                        "--retry",
                        "20",
                        "--retry-connrefused",
                        "--retry-delay",
                        "1",
                        url),
                null));
        return output.strip().lines().reduce((first, last) -> last).orElse("");
    }

    private static String restore() {
        return ExternalTools.sbinTool("iptables-restore").toString();
    }

    private static String assertOk(ExternalTools.Result result) {
        assertThat(result.exitCode()).as("output:%n%s", result.output()).isZero();
        return result.output();
    }
}
