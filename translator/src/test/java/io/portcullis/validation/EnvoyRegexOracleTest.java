package io.portcullis.validation;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * EnvoyRegex against the oracle, Google's RE2 in Latin-1 mode (the RE2 Envoy runs): whatever we accept,
 * RE2 accepts, with a program no larger than our bound; whatever RE2 refuses, we refuse. The bound is
 * checked without a size limit, so large programs are compared too.
 */
@NeedsRe2
class EnvoyRegexOracleTest {

    private static final Re2Oracle ORACLE = new Re2Oracle();

    @AfterContainer
    static void stopOracle() {
        ORACLE.close();
    }

    @Provide
    Arbitrary<String> patterns() {
        return Arbitraries.longs().map(Re2PatternGrammar::pattern);
    }

    @Property(tries = 4000, seed = "20261126")
    void acceptedRegexesAreAcceptedByRe2WithinTheSizeBoundAndRe2RefusalsAreRefused(@ForAll("patterns") String pattern) {
        EnvoyRegex.Verdict ours = EnvoyRegex.check(pattern, Integer.MAX_VALUE);
        Re2Oracle.Answer re2 = ORACLE.ask(pattern);
        Statistics.label("verdicts")
                .collect(
                        ours instanceof EnvoyRegex.Accepted ? "we accept" : "we refuse",
                        re2.accepted() ? "RE2 accepts" : "RE2 refuses");
        if (ours instanceof EnvoyRegex.Accepted accepted) {
            assertThat(re2.accepted())
                    .as("we accept '%s' but RE2 refuses it: %s", pattern, re2.error())
                    .isTrue();
            assertThat(accepted.programSizeBound())
                    .as("our program size bound for '%s'", pattern)
                    .isGreaterThanOrEqualTo(re2.programSize());
        }
        if (!re2.accepted()) {
            assertThat(ours).as("RE2 refuses '%s' (%s)", pattern, re2.error()).isInstanceOf(EnvoyRegex.Refused.class);
        }
    }
}
