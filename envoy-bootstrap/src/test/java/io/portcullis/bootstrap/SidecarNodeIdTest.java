package io.portcullis.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SidecarNodeIdTest {

    @Test
    void encodesAndParsesBackToTheSameIdentity() {
        SidecarNodeId id = new SidecarNodeId("shop", "cart.v2", "cart-7d9f8c-x2k4q");

        assertThat(id.nodeId()).isEqualTo("sidecar~shop~cart.v2~cart-7d9f8c-x2k4q");
        assertThat(id.nodeCluster()).isEqualTo("cart.v2.shop");
        assertThat(SidecarNodeId.parse(id.nodeId())).isEqualTo(id);
    }

    @Test
    void acceptsNamesAtTheKubernetesLengthLimits() {
        SidecarNodeId id = new SidecarNodeId(
                "n".repeat(63),
                "s".repeat(63) + "." + "a".repeat(63),
                "p".repeat(63) + "." + "q".repeat(63) + "." + "r".repeat(63) + "." + "t".repeat(61));

        assertThat(id.podName()).hasSize(253);
        assertThat(SidecarNodeId.parse(id.nodeId())).isEqualTo(id);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
      router~shop~cart~cart-1          | node id 'router~shop~cart~cart-1' does not start with 'sidecar~'; expected sidecar~<namespace>~<serviceAccount>~<podName>
      sidecarx~shop~cart~cart-1        | node id 'sidecarx~shop~cart~cart-1' does not start with 'sidecar~'
      ""                               | node id '' does not start with 'sidecar~'
      sidecar~shop~cart                | node id 'sidecar~shop~cart' has 3 '~'-separated parts, expected 4 (sidecar~<namespace>~<serviceAccount>~<podName>)
      sidecar~shop~cart~cart-1~extra   | node id 'sidecar~shop~cart~cart-1~extra' has 5 '~'-separated parts, expected 4
      sidecar~~cart~cart-1             | node id 'sidecar~~cart~cart-1' has an empty namespace
      sidecar~shop~~cart-1             | node id 'sidecar~shop~~cart-1' has an empty service account
      sidecar~shop~cart~               | node id 'sidecar~shop~cart~' has an empty pod name
      sidecar~Shop~cart~cart-1         | node id 'sidecar~Shop~cart~cart-1': namespace 'Shop' is not a valid DNS-1123 label
      sidecar~shop.eu~cart~cart-1      | node id 'sidecar~shop.eu~cart~cart-1': namespace 'shop.eu' is not a valid DNS-1123 label
      sidecar~shop~cart_v2~cart-1      | node id 'sidecar~shop~cart_v2~cart-1': service account 'cart_v2' is not a valid DNS-1123 subdomain
      sidecar~shop~cart~-cart          | node id 'sidecar~shop~cart~-cart': pod name '-cart' is not a valid DNS-1123 subdomain
      sidecar~shop~cart~cart..1        | node id 'sidecar~shop~cart~cart..1': pod name 'cart..1' is not a valid DNS-1123 subdomain
      sidecar~shop~cart~cart-1.        | pod name 'cart-1.' is not a valid DNS-1123 subdomain
      """)
    void rejectsMalformedIdsWithThePreciseReason(String nodeId, String expectedMessageStart) {
        assertThatThrownBy(() -> SidecarNodeId.parse(nodeId))
                .isInstanceOf(IllegalArgumentException.class)
                .message()
                .contains(expectedMessageStart);
    }

    @Test
    void rejectsNullAndOverlongNames() {
        assertThatThrownBy(() -> SidecarNodeId.parse(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("node id must not be null");
        assertThatThrownBy(() -> SidecarNodeId.parse("sidecar~" + "n".repeat(64) + "~cart~cart-1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a valid DNS-1123 label: 64 characters, at most 63");
        assertThatThrownBy(() -> new SidecarNodeId("shop", "cart", "p".repeat(254)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a valid DNS-1123 subdomain: 254 characters, at most 253");
        assertThatThrownBy(() -> new SidecarNodeId("shop", "cart", "a".repeat(64) + ".b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pod name");
    }

    @Test
    void constructorValidatesToo() {
        assertThatThrownBy(() -> new SidecarNodeId("shop", "", "cart-1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("service account must not be empty");
        assertThatThrownBy(() -> new SidecarNodeId("shop", "cart", "cart~1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("pod name 'cart~1' is not a valid DNS-1123 subdomain");
        assertThatThrownBy(() -> new SidecarNodeId(null, "cart", "cart-1"))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("namespace must not be null");
    }
}
