package io.portcullis.validation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "10.0.0.0/8,          10.0.0.0/8",
        "10.1.2.3/8,          10.0.0.0/8",
        "172.16.5.7/16,       172.16.0.0/16",
        "192.168.1.255/31,    192.168.1.254/31",
        "192.168.1.10,        192.168.1.10/32",
        "192.168.1.10/32,     192.168.1.10/32",
        "8.8.8.8/0,           0.0.0.0/0",
        "' 10.0.0.0/16 ',     10.0.0.0/16",
        "255.255.255.255,     255.255.255.255/32",
        "2001:db8::/32,       2001:db8:0:0:0:0:0:0/32",
        "2001:DB8:1:2::5/48,  2001:db8:1:0:0:0:0:0/48",
        "2001:db8::1,         2001:db8:0:0:0:0:0:1/128",
        "::1,                 0:0:0:0:0:0:0:1/128",
        "::/0,                0:0:0:0:0:0:0:0/0",
        "fe80::1:2:3:4/65,    fe80:0:0:0:0:0:0:0/65",
    })
    void normalisesHostBitsAndSpelling(String text, String expected) {
        assertThat(Cidr.parse(text)).map(Cidr::toString).hasValue(expected);
    }

    @ParameterizedTest(name = "''{0}''")
    @NullAndEmptySource
    @ValueSource(
            strings = {
                "10.0.0.0/33",
                "10.0.0.0/-1",
                "10.0.0.0/",
                "10.0.0.0/8/8",
                "10.0.0.0/x",
                "/8",
                "10.0.0/8",
                "10.0.0.0.0",
                "1.2.3.4.5/32",
                "256.1.1.1",
                "999.999.999.999/8",
                "::/129",
                "2001:db8::/200",
                "1:2:3:4:5:6:7:8:9",
                "2001:db8:::1",
                "fe80::1%eth0",
                "db.internal",
                "localhost",
                "httpbin.org/32",
                "example.com",
                "  ",
                "10.0.0.0 /8",
            })
    void rejectsWhatIsNotAnIpRange(String text) {
        assertThat(Cidr.parse(text)).isEmpty();
    }

    /** 010 is 8 to a parser that reads octal and 10 to one that does not: the policy must not depend on which. */
    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {"010.0.0.0/8", "10.0.0.01", "00.0.0.0/0", "192.168.001.0/24"})
    void rejectsAnIpv4OctetWithALeadingZero(String text) {
        assertThat(Cidr.parse(text)).isEmpty();
    }

    /** Host names must never be resolved: a lookup is slow, and DNS would decide what the policy allows. */
    @Test
    void neverResolvesNames() throws Exception {
        java.net.InetAddress.getByName("localhost"); // the recording resolver is installed and sees lookups
        assertThat(RecordingResolverProvider.LOOKUPS)
                .as("RecordingResolverProvider not installed")
                .contains("localhost");
        RecordingResolverProvider.LOOKUPS.clear();
        for (String name : List.of(
                "localhost",
                "localhost/32",
                "256.0.0.1",
                "300.300.300.300/32",
                "1.2.3.999",
                "999.1.1.1/8",
                "db.internal",
                "10.0.0.0.0",
                "10.0.0.0/33")) {
            assertThat(Cidr.parse(name)).as(name).isEmpty();
        }
        assertThat(RecordingResolverProvider.LOOKUPS)
                .as("host names Cidr.parse resolved")
                .isEmpty();
    }

    @Test
    void equalRangesCompareEqualAndSortDeterministically() {
        assertThat(Cidr.parse("10.1.2.3/16")).isEqualTo(Cidr.parse("10.1.0.0/16"));
        assertThat(Cidr.parse("2001:db8::/32")).isEqualTo(Cidr.parse("2001:0db8:0000::/32"));
        TreeSet<Cidr> set = new TreeSet<>();
        List.of("192.168.0.0/24", "10.1.2.3/16", "10.1.0.0/16", "10.0.0.0/8")
                .forEach(t -> set.add(Cidr.parse(t).orElseThrow()));
        assertThat(set).extracting(Cidr::toString).containsExactly("10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/24");
    }
}
