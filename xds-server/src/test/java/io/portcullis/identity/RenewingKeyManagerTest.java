package io.portcullis.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class RenewingKeyManagerTest {

    /** A clock the test moves. */
    private static final class MovableClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void theServerCertificateIsReplacedOnceHalfItsValidityHasPassed() {
        MovableClock clock = new MovableClock();
        CertificateAuthority ca = CertificateAuthority.generate(clock);
        RenewingKeyManager keys =
                new RenewingKeyManager(() -> ca.issueServer(List.of("xds.example"), Duration.ofHours(24)), clock);
        String first = keys.chooseEngineServerAlias("EC", null, null);

        clock.now = clock.now.plus(Duration.ofHours(10));
        assertThat(keys.chooseEngineServerAlias("EC", null, null))
                .as("before half-life")
                .isEqualTo(first);

        clock.now = clock.now.plus(Duration.ofHours(3));
        String second = keys.chooseEngineServerAlias("EC", null, null);
        assertThat(second).as("after half-life").isNotEqualTo(first);
        assertThat(keys.getCertificateChain(second)[0].getNotAfter().toInstant())
                .isAfter(clock.now.plus(Duration.ofHours(23)));
        assertThat(keys.getPrivateKey(first))
                .as("a handshake that chose the old alias can finish")
                .isNotNull();
    }

    @Test
    void itOffersItsEcKeyOnlyForEcKeyTypes() {
        CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
        RenewingKeyManager keys = new RenewingKeyManager(
                () -> ca.issueServer(List.of("xds.example"), Duration.ofHours(1)), Clock.systemUTC());

        assertThat(keys.chooseEngineServerAlias("RSA", null, null)).isNull();
        assertThat(keys.chooseEngineServerAlias("EC", null, null)).startsWith("xds-");
    }
}
