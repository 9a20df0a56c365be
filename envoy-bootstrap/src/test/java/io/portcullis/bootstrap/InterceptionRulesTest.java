package io.portcullis.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InterceptionRulesTest {

    private static final InterceptionRules RULES =
            new InterceptionRules(1337, 15001, List.of("10.0.0.0/8", "169.254.169.254/32"));

    // The exact list lives in one place, golden/iptables-restore.txt (GoldenFilesTest), and the
    // commands are checked to be the same rules (restoreTextHasTheSameRulesAsTheCommands). These tests
    // state what the rules must do, whatever their exact spelling.

    /** Uid and port other than the defaults, so a rule that ignores its parameter shows. */
    private static final InterceptionRules ODD =
            new InterceptionRules(4242, 15009, List.of("10.0.0.0/8", "169.254.169.254/32"));

    /** The match-and-target part of each rule appended to {@code chain}, in order. */
    private static List<String> chain(InterceptionRules rules, String table, String chain) {
        return rules.toIptablesCommands().stream()
                .filter(c -> c.get(2).equals(table)
                        && c.get(3).equals("-A")
                        && c.get(4).equals(chain))
                .map(c -> String.join(" ", c.subList(5, c.size())))
                .toList();
    }

    @Test
    void everyChainIsCreatedBeforeAnyRuleUsesIt() {
        List<List<String>> commands = RULES.toIptablesCommands();
        for (int i = 0; i < commands.size(); i++) {
            List<String> c = commands.get(i);
            assertThat(c.subList(0, 2)).isEqualTo(List.of("iptables", "-t"));
            String chainUsed = c.get(3).equals("-N") ? null : c.contains("-j") ? c.get(c.indexOf("-j") + 1) : null;
            for (String name : new String[] {c.get(3).equals("-A") ? c.get(4) : null, chainUsed}) {
                if (name != null && name.startsWith("PORTCULLIS_")) {
                    assertThat(commands.subList(0, i))
                            .as("chain %s created before %s", name, c)
                            .contains(List.of("iptables", "-t", c.get(2), "-N", name));
                }
            }
        }
    }

    @Test
    void outputSendsTcpToTheNatChainAndUdpToTheFilterChainOnly() {
        assertThat(chain(RULES, "nat", "OUTPUT")).containsExactly("-p tcp -j PORTCULLIS_OUTBOUND");
        assertThat(chain(RULES, "filter", "OUTPUT")).containsExactly("-p udp -j PORTCULLIS_UDP");
    }

    @Test
    void tcpOfEveryoneButTheProxyLeavingTheHostIsRedirectedToTheOutboundPortAsTheLastRule() {
        List<String> nat = chain(ODD, "nat", "PORTCULLIS_OUTBOUND");
        assertThat(nat.get(0))
                .as("Envoy's own traffic returns first, or it would loop into itself")
                .isEqualTo("-m owner --uid-owner 4242 -j RETURN");
        assertThat(nat.getLast()).isEqualTo("-p tcp -j REDIRECT --to-ports 15009");
        assertThat(nat.subList(1, nat.size() - 1))
                .as("everything between only exempts, never redirects")
                .allSatisfy(rule -> assertThat(rule).endsWith("-j RETURN").doesNotContain("--uid-owner"))
                .contains(
                        "-o lo -j RETURN",
                        "-d 127.0.0.0/8 -j RETURN",
                        "-d 10.0.0.0/8 -j RETURN",
                        "-d 169.254.169.254/32 -j RETURN");
    }

    @Test
    void udpOfEveryoneButTheProxyIsRefusedAsTheLastRuleExceptDnsLoopbackAndExcludedCidrs() {
        List<String> udp = chain(ODD, "filter", "PORTCULLIS_UDP");
        assertThat(udp.get(0)).isEqualTo("-m owner --uid-owner 4242 -j RETURN");
        assertThat(udp.getLast()).isEqualTo("-p udp -j REJECT --reject-with icmp-port-unreachable");
        assertThat(udp.subList(1, udp.size() - 1))
                .allSatisfy(rule -> assertThat(rule).endsWith("-j RETURN").doesNotContain("--uid-owner"))
                .contains(
                        "-o lo -j RETURN",
                        "-p udp --dport 53 -j RETURN",
                        "-d 10.0.0.0/8 -j RETURN",
                        "-d 169.254.169.254/32 -j RETURN");
    }

    @Test
    void withoutExcludedCidrsNoDestinationButLoopbackIsExempt() {
        InterceptionRules none = InterceptionRules.of(4242);
        assertThat(chain(none, "nat", "PORTCULLIS_OUTBOUND"))
                .filteredOn(rule -> rule.startsWith("-d "))
                .containsExactly("-d 127.0.0.0/8 -j RETURN");
        assertThat(chain(none, "filter", "PORTCULLIS_UDP")).noneMatch(rule -> rule.startsWith("-d "));
    }

    @Test
    void restoreTextHasTheSameRulesAsTheCommands() {
        List<String> ruleLines = RULES.toIptablesRestore()
                .lines()
                .filter(l -> !l.startsWith("#") && !l.isBlank())
                .toList();
        List<String> fromCommands = new ArrayList<>();
        String table = null;
        for (List<String> c : RULES.toIptablesCommands()) {
            if (c.get(3).equals("-N")) { // a new chain opens its table's section in restore form
                if (table != null) {
                    fromCommands.add("COMMIT");
                }
                table = c.get(2);
                fromCommands.add("*" + table);
                fromCommands.add(":" + c.get(4) + " - [0:0]");
            } else {
                fromCommands.add(String.join(" ", c.subList(3, c.size())));
            }
        }
        fromCommands.add("COMMIT");

        assertThat(ruleLines).isEqualTo(fromCommands);
    }

    @Test
    void tcpIsRedirectedUdpRefusedAndOnlyOurChainsAreDeclared() {
        String text = RULES.toIptablesRestore();
        assertThat(text.lines().filter(l -> l.startsWith("*"))).containsExactly("*nat", "*filter");
        // No built-in chain declarations: with --noflush, ":OUTPUT ACCEPT" would reset the policy.
        assertThat(text.lines().filter(l -> l.startsWith(":")))
                .containsExactly(":PORTCULLIS_OUTBOUND - [0:0]", ":PORTCULLIS_UDP - [0:0]");
        assertThat(text.lines().filter(l -> !l.startsWith("#") && l.contains("REDIRECT")))
                .singleElement()
                .asString()
                .contains("-p tcp");
        assertThat(text.lines().filter(l -> !l.startsWith("#") && l.contains("REJECT")))
                .singleElement()
                .asString()
                .contains("-A PORTCULLIS_UDP -p udp");
        assertThat(text).doesNotContain("-F").doesNotContain("-X");
    }

    @Test
    void everyRuleIsExplained() {
        List<String> lines = RULES.toIptablesRestore().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("-A ")) {
                assertThat(lines.get(i - 1))
                        .as("comment above %s", lines.get(i))
                        .startsWith("# ");
            }
        }
    }

    @Test
    void defaultsAndImmutability() {
        InterceptionRules d = InterceptionRules.of(1337);
        assertThat(d.outboundPort()).isEqualTo(15001);
        assertThat(d.excludedCidrs()).isEmpty();

        List<String> cidrs = new ArrayList<>(List.of("10.0.0.0/8"));
        InterceptionRules r = new InterceptionRules(1337, 15001, cidrs);
        cidrs.add("192.168.0.0/16");
        assertThat(r.excludedCidrs()).containsExactly("10.0.0.0/8");
        assertThatThrownBy(() -> r.excludedCidrs().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
      10.1.0.0/8       | excluded CIDR '10.1.0.0/8' has host bits set
      10.0.0.0         | excluded CIDR '10.0.0.0' is not an IPv4 CIDR like 10.0.0.0/8
      fd00::/8         | (IPv6 is not intercepted by these rules)
      10.0.0.0/33      | excluded CIDR '10.0.0.0/33' has prefix length 33, expected 1-32
      0.0.0.0/0        | has prefix length 0, expected 1-32
      256.0.0.0/8      | has an invalid octet 256
      010.0.0.0/8      | has an invalid octet 010
      10.0.0.0/8 -j X  | is not an IPv4 CIDR
      """)
    void rejectsBadCidrs(String cidr, String message) {
        assertThatThrownBy(() -> new InterceptionRules(1337, 15001, List.of(cidr)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void rejectsRootUidAndBadPorts() {
        assertThatThrownBy(() -> InterceptionRules.of(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("proxyUid 0 must be a dedicated non-root uid");
        assertThatThrownBy(() -> new InterceptionRules(1337, 0, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("outboundPort 0 is outside 1-65535");
    }

    @Test
    void excludedPortsReturnBeforeTheRedirectAndTheUdpRefusalSortedAndOnce() {
        InterceptionRules r = new InterceptionRules(1337, 15001, List.of(), List.of(8443, 53, 8443));
        assertThat(r.excludedPorts()).containsExactly(53, 8443);
        String text = r.toIptablesRestore();
        assertThat(text.indexOf("-A PORTCULLIS_OUTBOUND -p tcp --dport 8443 -j RETURN"))
                .isPositive()
                .isLessThan(text.indexOf("-j REDIRECT"));
        assertThat(text.indexOf("-A PORTCULLIS_UDP -p udp --dport 8443 -j RETURN"))
                .isPositive()
                .isLessThan(text.indexOf("-j REJECT --reject-with icmp-port-unreachable"));
    }

    @Test
    void rejectsExcludedPortsOutsideTheRangeOrEqualToTheOutboundPort() {
        assertThatThrownBy(() -> new InterceptionRules(1337, 15001, List.of(), List.of(0)))
                .hasMessageContaining("excluded port 0 is outside 1-65535");
        assertThatThrownBy(() -> new InterceptionRules(1337, 15001, List.of(), List.of(15001)))
                .hasMessageContaining("Envoy's outbound port");
    }
}
