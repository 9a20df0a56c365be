package io.portcullis.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class XdsEndpointTest {

    @ParameterizedTest(name = "{0} -> {1} port {2}")
    @CsvSource({
        "10.0.0.5,                     10.0.0.5,                     15010",
        "10.0.0.5:15011,               10.0.0.5,                     15011",
        "portcullis.portcullis-system.svc:18000, portcullis.portcullis-system.svc, 18000",
        "portcullis.,                  portcullis.,                  15010",
        "fd00::10,                     fd00::10,                     15010",
        "[fd00::10],                   fd00::10,                     15010",
        "[fd00::10]:15012,             fd00::10,                     15012",
    })
    void readsHostAndOptionalPort(String text, String host, int port) {
        XdsEndpoint endpoint = XdsEndpoint.parse(text, 15010);

        assertThat(endpoint).isEqualTo(new XdsEndpoint(host, port));
        assertThat(XdsEndpoint.parse(endpoint.toString(), 1))
                .as("toString reads back")
                .isEqualTo(endpoint);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "10.0.0.5:",
                "10.0.0.5:http",
                "[fd00::10",
                "[fd00::10]15010",
                "10.0.0.5:0",
                "10.0.0.5:70000",
                "10.0.0.256:15010",
                "xds host:15010",
                ":15010"
            })
    void refusesWhatIsNotHostColonPort(String text) {
        assertThatThrownBy(() -> XdsEndpoint.parse(text, 15010)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @CsvSource({
        "10.0.0.5:http,    xDS endpoint '10.0.0.5:http': port 'http' is not a number",
        "10.0.0.5:70000,   xdsPort 70000 is outside 1-65535",
        "10.0.0.256:15010, 'xdsHost ''10.0.0.256'' looks like a malformed IP address, not a DNS host name'",
    })
    void saysWhatIsWrong(String text, String message) {
        assertThatThrownBy(() -> XdsEndpoint.parse(text, 15010)).hasMessage(message);
    }
}
