package io.portcullis.decisions;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import io.portcullis.envoy.DecisionLog;
import io.portcullis.input.ServiceAccountRef;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How one gRPC access log entry of the decision log becomes an EgressDecision. */
class DecisionLogEntriesTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");
    private static final Instant RECEIVED = Instant.parse("2026-11-26T12:00:00Z");
    private static final Instant STARTED = Instant.parse("2026-11-26T11:59:59.250Z");

    @Test
    void aTcpDenialTakesItsDecisionPolicyAndReasonFromTheTagsAndItsDestinationFromEnvoy() {
        TCPAccessLogEntry entry = TCPAccessLogEntry.newBuilder()
                .setCommonProperties(common(Map.of(
                                "decision", "deny",
                                "reason", "no Egress allows curl/curl to port 5432"))
                        .setDownstreamLocalAddress(address("203.0.113.7", 5432)))
                .build();

        EgressDecision decision = decision(DecisionLogEntries.read(entry, CURL, RECEIVED));

        assertThat(decision)
                .isEqualTo(new EgressDecision(
                        STARTED,
                        "curl/curl",
                        "203.0.113.7:5432",
                        "tcp",
                        null,
                        null,
                        null,
                        null,
                        "deny",
                        null,
                        null,
                        "no Egress allows curl/curl to port 5432",
                        null));
    }

    @Test
    void aTcpEntryWithSniIsTlsAndNamesTheSni() {
        TCPAccessLogEntry entry = TCPAccessLogEntry.newBuilder()
                .setCommonProperties(common(Map.of("decision", "allow", "policy", "curl/httpbin-443"))
                        .setDownstreamLocalAddress(address("198.51.100.1", 443))
                        .setTlsProperties(TLSProperties.newBuilder().setTlsSniHostname("httpbin.org")))
                .build();

        EgressDecision decision = decision(DecisionLogEntries.read(entry, CURL, RECEIVED));

        assertThat(decision.protocol()).isEqualTo("tls");
        assertThat(decision.sni()).isEqualTo("httpbin.org");
        assertThat(decision.policy()).isEqualTo("curl/httpbin-443");
        assertThat(decision.decision()).isEqualTo("allow");
    }

    @Test
    void anHttpEntryFillsHostMethodPathAndStatusFromTheRequestWhenTheTagsDoNot() {
        HTTPAccessLogEntry entry = HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(common(Map.of(
                                "decision", "deny",
                                "policy", "curl/httpbin-80",
                                "match", "get-only/allowed",
                                "reason", "no route of curl/httpbin-80 matches"))
                        .setDownstreamLocalAddress(address("198.51.100.1", 80)))
                .setRequest(HTTPRequestProperties.newBuilder()
                        .setAuthority("httpbin.org")
                        .setRequestMethod(RequestMethod.POST)
                        .setPath("/post"))
                .setResponse(HTTPResponseProperties.newBuilder().setResponseCode(UInt32Value.of(403)))
                .build();

        EgressDecision decision = decision(DecisionLogEntries.read(entry, CURL, RECEIVED));

        assertThat(decision)
                .isEqualTo(new EgressDecision(
                        STARTED,
                        "curl/curl",
                        "198.51.100.1:80",
                        "http",
                        null,
                        "httpbin.org",
                        "POST",
                        "/post",
                        "deny",
                        "curl/httpbin-80",
                        "get-only/allowed",
                        "no route of curl/httpbin-80 matches",
                        403));
    }

    @Test
    void tagsWinOverWhatEnvoyReportsAndADashIsNoValue() {
        HTTPAccessLogEntry entry = HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(common(Map.of(
                                "decision", "would_deny",
                                "destination", "192.0.2.9:8080",
                                "host", "example.com:8080",
                                "policy", "-",
                                "sni", "-",
                                "response_code", "200"))
                        .setDownstreamLocalAddress(address("127.0.0.1", 15001)))
                .setRequest(HTTPRequestProperties.newBuilder().setAuthority("other.example"))
                .build();

        EgressDecision decision = decision(DecisionLogEntries.read(entry, CURL, RECEIVED));

        assertThat(decision.destination()).isEqualTo("192.0.2.9:8080");
        assertThat(decision.host()).isEqualTo("example.com:8080");
        assertThat(decision.policy()).isNull();
        assertThat(decision.sni()).isNull();
        assertThat(decision.responseCode()).isEqualTo(200);
        assertThat(decision.decision()).isEqualTo("would_deny");
        assertThat(decision.refused()).isTrue();
    }

    @Test
    void theIdentityIsTheProvenOneAndATagClaimingAnotherIsReportedBack() {
        TCPAccessLogEntry entry = TCPAccessLogEntry.newBuilder()
                .setCommonProperties(common(Map.of("decision", "allow", "identity", "prod/payments")))
                .build();

        DecisionLogEntries.Reading reading = DecisionLogEntries.read(entry, CURL, RECEIVED);

        assertThat(reading).isInstanceOfSatisfying(DecisionLogEntries.Decision.class, d -> {
            assertThat(d.decision().identity()).isEqualTo("curl/curl");
            assertThat(d.claimedIdentity()).isEqualTo("prod/payments");
        });
    }

    @Test
    void anIdentityTagNamingTheProvenIdentityIsNoClaim() {
        TCPAccessLogEntry entry = TCPAccessLogEntry.newBuilder()
                .setCommonProperties(common(Map.of("decision", "allow", "identity", "curl/curl")))
                .build();

        assertThat(DecisionLogEntries.read(entry, CURL, RECEIVED))
                .isInstanceOfSatisfying(
                        DecisionLogEntries.Decision.class,
                        d -> assertThat(d.claimedIdentity()).isNull());
    }

    @Test
    void entriesOutsideTheContractAreIgnoredWithAFixedProblemWord() {
        assertThat(ignored(Map.of("reason", "x"))).isEqualTo("no_decision");
        assertThat(ignored(Map.of("decision", "maybe"))).isEqualTo("invalid_decision");
        assertThat(ignored(Map.of("decision", "deny", "protocol", "quic"))).isEqualTo("invalid_protocol");
        assertThat(ignored(Map.of("decision", "deny", "policy", "Not A Policy {x=\"y\"}")))
                .isEqualTo("invalid_policy");
    }

    @Test
    void withoutStartTimeTheTimeTagOrElseTheArrivalIsUsed() {
        TCPAccessLogEntry tagged = TCPAccessLogEntry.newBuilder()
                .setCommonProperties(AccessLogCommon.newBuilder()
                        .putCustomTags(DecisionLog.TAG_PREFIX + "decision", "deny")
                        .putCustomTags(DecisionLog.TAG_PREFIX + "time", "2026-11-26T10:00:00.123Z"))
                .build();
        TCPAccessLogEntry bare = TCPAccessLogEntry.newBuilder()
                .setCommonProperties(
                        AccessLogCommon.newBuilder().putCustomTags(DecisionLog.TAG_PREFIX + "decision", "deny"))
                .build();

        assertThat(decision(DecisionLogEntries.read(tagged, CURL, RECEIVED)).time())
                .isEqualTo(Instant.parse("2026-11-26T10:00:00.123Z"));
        assertThat(decision(DecisionLogEntries.read(bare, CURL, RECEIVED)).time())
                .isEqualTo(RECEIVED);
    }

    @Test
    void aLongPathIsCutSoAFloodOfDecisionsCostsBoundedMemory() {
        HTTPAccessLogEntry entry = HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(common(Map.of("decision", "deny")))
                .setRequest(HTTPRequestProperties.newBuilder().setPath("/" + "a".repeat(10_000)))
                .build();

        assertThat(decision(DecisionLogEntries.read(entry, CURL, RECEIVED)).path())
                .hasSize(DecisionLogEntries.MAX_TEXT);
    }

    @Test
    void anIpv6DestinationIsBracketed() {
        TCPAccessLogEntry entry = TCPAccessLogEntry.newBuilder()
                .setCommonProperties(
                        common(Map.of("decision", "deny")).setDownstreamLocalAddress(address("2001:db8::1", 443)))
                .build();

        assertThat(decision(DecisionLogEntries.read(entry, CURL, RECEIVED)).destination())
                .isEqualTo("[2001:db8::1]:443");
    }

    private static String ignored(Map<String, String> fields) {
        TCPAccessLogEntry entry = TCPAccessLogEntry.newBuilder()
                .setCommonProperties(common(fields))
                .build();
        DecisionLogEntries.Reading reading = DecisionLogEntries.read(entry, CURL, RECEIVED);
        assertThat(reading).isInstanceOf(DecisionLogEntries.Ignored.class);
        return ((DecisionLogEntries.Ignored) reading).problem();
    }

    private static EgressDecision decision(DecisionLogEntries.Reading reading) {
        assertThat(reading).isInstanceOf(DecisionLogEntries.Decision.class);
        return ((DecisionLogEntries.Decision) reading).decision();
    }

    /** The entry's common properties with these decision-log fields as tags, started at {@link #STARTED}. */
    private static AccessLogCommon.Builder common(Map<String, String> fields) {
        AccessLogCommon.Builder common = AccessLogCommon.newBuilder()
                .setStartTime(Timestamp.newBuilder()
                        .setSeconds(STARTED.getEpochSecond())
                        .setNanos(STARTED.getNano()));
        fields.forEach((field, value) -> common.putCustomTags(DecisionLog.TAG_PREFIX + field, value));
        return common;
    }

    private static Address address(String ip, int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
                .build();
    }
}
