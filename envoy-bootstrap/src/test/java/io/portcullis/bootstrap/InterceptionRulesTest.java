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

  @Test
  void commandsAreTheRulesInOrder() {
    assertThat(RULES.toIptablesCommands()).containsExactly(
        List.of("iptables", "-t", "nat", "-N", "PORTCULLIS_OUTBOUND"),
        List.of("iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-j", "PORTCULLIS_OUTBOUND"),
        List.of("iptables", "-t", "nat", "-A", "PORTCULLIS_OUTBOUND", "-m", "owner", "--uid-owner", "1337", "-j", "RETURN"),
        List.of("iptables", "-t", "nat", "-A", "PORTCULLIS_OUTBOUND", "-o", "lo", "-j", "RETURN"),
        List.of("iptables", "-t", "nat", "-A", "PORTCULLIS_OUTBOUND", "-d", "127.0.0.0/8", "-j", "RETURN"),
        List.of("iptables", "-t", "nat", "-A", "PORTCULLIS_OUTBOUND", "-d", "10.0.0.0/8", "-j", "RETURN"),
        List.of("iptables", "-t", "nat", "-A", "PORTCULLIS_OUTBOUND", "-d", "169.254.169.254/32", "-j", "RETURN"),
        List.of("iptables", "-t", "nat", "-A", "PORTCULLIS_OUTBOUND", "-p", "tcp", "-j", "REDIRECT", "--to-ports", "15001"),
        List.of("iptables", "-t", "filter", "-N", "PORTCULLIS_UDP"),
        List.of("iptables", "-t", "filter", "-A", "OUTPUT", "-p", "udp", "-j", "PORTCULLIS_UDP"),
        List.of("iptables", "-t", "filter", "-A", "PORTCULLIS_UDP", "-m", "owner", "--uid-owner", "1337", "-j", "RETURN"),
        List.of("iptables", "-t", "filter", "-A", "PORTCULLIS_UDP", "-o", "lo", "-j", "RETURN"),
        List.of("iptables", "-t", "filter", "-A", "PORTCULLIS_UDP", "-p", "udp", "--dport", "53", "-j", "RETURN"),
        List.of("iptables", "-t", "filter", "-A", "PORTCULLIS_UDP", "-d", "10.0.0.0/8", "-j", "RETURN"),
        List.of("iptables", "-t", "filter", "-A", "PORTCULLIS_UDP", "-d", "169.254.169.254/32", "-j", "RETURN"),
        List.of("iptables", "-t", "filter", "-A", "PORTCULLIS_UDP", "-p", "udp", "-j", "REJECT", "--reject-with",
            "icmp-port-unreachable"));
  }

  @Test
  void restoreTextHasTheSameRulesAsTheCommands() {
    List<String> ruleLines = RULES.toIptablesRestore().lines()
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
    assertThat(text.lines().filter(l -> !l.startsWith("#") && l.contains("REDIRECT"))).singleElement().asString().contains("-p tcp");
    assertThat(text.lines().filter(l -> !l.startsWith("#") && l.contains("REJECT"))).singleElement().asString()
        .contains("-A PORTCULLIS_UDP -p udp");
    assertThat(text).doesNotContain("-F").doesNotContain("-X");
  }

  @Test
  void everyRuleIsExplained() {
    List<String> lines = RULES.toIptablesRestore().lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("-A ")) {
        assertThat(lines.get(i - 1)).as("comment above %s", lines.get(i)).startsWith("# ");
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
}
