package io.portcullis.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.validation.Cidr;
import io.portcullis.validation.PolicyOrigin;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Resource keys, policy origins and IP ranges compare without printing themselves, yet must sort exactly
 * as their printed forms do: route names and reports join them in that order. Names are drawn from the
 * characters where a field boundary could change the order ({@code -}, {@code .}, {@code /} and space sort
 * before letters and digits), so a comparison that went field by field would be caught.
 */
class PrintedOrderPropertyTest {

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.strings().withChars("ab-./ 09").ofMinLength(0).ofMaxLength(5);
    }

    @Provide
    Arbitrary<String> kinds() {
        return Arbitraries.of("Egress", "HTTPRouteGroup", "Egres", "MeshConfig");
    }

    @Property(tries = 2000, seed = "20261126")
    void resourceKeysSortAsPrinted(
            @ForAll("kinds") String kind,
            @ForAll("names") String namespace,
            @ForAll("names") String name,
            @ForAll("kinds") String otherKind,
            @ForAll("names") String otherNamespace,
            @ForAll("names") String otherName,
            @ForAll boolean clusterScoped) {
        ResourceKey left = new ResourceKey(kind, clusterScoped ? null : namespace, name);
        ResourceKey right = new ResourceKey(otherKind, otherNamespace, otherName);
        assertSameOrder(left.compareTo(right), left.toString().compareTo(right.toString()));
        assertSameOrder(right.compareTo(left), right.toString().compareTo(left.toString()));
    }

    @Property(tries = 2000, seed = "20261126")
    void policyOriginsSortAsPrinted(
            @ForAll("names") String namespace,
            @ForAll("names") String name,
            @ForAll("names") String otherNamespace,
            @ForAll("names") String otherName) {
        PolicyOrigin left = new PolicyOrigin(namespace, name);
        PolicyOrigin right = new PolicyOrigin(otherNamespace, otherName);
        assertSameOrder(left.compareTo(right), left.toString().compareTo(right.toString()));
    }

    @Property(tries = 2000, seed = "20261126")
    void ipRangesSortAsPrinted(
            @ForAll("addresses") String address,
            @ForAll("prefixes") int prefix,
            @ForAll("addresses") String otherAddress,
            @ForAll("prefixes") int otherPrefix) {
        Cidr left = Cidr.parse(address + "/" + prefix).orElseThrow();
        Cidr right = Cidr.parse(otherAddress + "/" + otherPrefix).orElseThrow();
        assertSameOrder(left.compareTo(right), left.toString().compareTo(right.toString()));
    }

    @Provide
    Arbitrary<String> addresses() {
        return Arbitraries.of(
                "198.18.0.1", "198.18.0.10", "198.18.1.0", "10.0.0.0", "2001:db8::", "2001:db8::1", "::1");
    }

    @Provide
    Arbitrary<Integer> prefixes() {
        return Arbitraries.of(0, 1, 3, 8, 24, 32);
    }

    /** A field-by-field comparison differs here: {@code curl-a/x} sorts before {@code curl/x} as printed. */
    @Example
    void aNamespaceThatExtendsAnotherSortsByThePrintedSeparator() {
        assertThat(new PolicyOrigin("curl-a", "x").compareTo(new PolicyOrigin("curl", "x")))
                .isLessThan(0);
        assertThat(new ResourceKey("Egress", "curl-a", "x").compareTo(new ResourceKey("Egress", "curl", "x")))
                .isLessThan(0);
    }

    private static void assertSameOrder(int actual, int printed) {
        assertThat(Integer.signum(actual)).isEqualTo(Integer.signum(printed));
    }
}
