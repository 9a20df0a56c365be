package io.portcullis.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.bootstrap.SidecarContract;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What a policy author reads when a regex is refused: why, and what to write instead. */
class EnvoyRegexTest {

    private static String refusal(String regex) {
        EnvoyRegex.Verdict verdict = EnvoyRegex.check(regex);
        assertThat(verdict).as("'%s'", regex).isInstanceOf(EnvoyRegex.Refused.class);
        return ((EnvoyRegex.Refused) verdict).reason();
    }

    @Test
    void aProgramOverTheContractLimitNamesItsSizeTheLimitAndHowToShrinkIt() {
        assertThat(refusal("/v2/[a-z0-9]+/manifests/[a-zA-Z0-9_.-]{1,300}"))
                .contains("RE2 program of up to 1521 instructions")
                .contains("limit of " + SidecarContract.REGEX_MAX_PROGRAM_SIZE)
                .contains("replace a long counted repetition such as {1,128} by + or *");
    }

    @Test
    void theManifestPathOfTheContractIsAcceptedWithABoundNotBelowRe2s661() {
        assertThat(EnvoyRegex.check("/v2/[a-z0-9]+/manifests/[a-zA-Z0-9_.-]{1,128}"))
                .isInstanceOfSatisfying(
                        EnvoyRegex.Accepted.class,
                        a -> assertThat(a.programSizeBound()).isBetween(661, SidecarContract.REGEX_MAX_PROGRAM_SIZE));
    }

    @Test
    void theLimitIsTheSidecarContracts() {
        String regex = "[a-zA-Z0-9_.-]{1,250}";
        assertThat(EnvoyRegex.check(regex, Integer.MAX_VALUE))
                .isInstanceOfSatisfying(
                        EnvoyRegex.Accepted.class,
                        a -> assertThat(a.programSizeBound()).isGreaterThan(SidecarContract.REGEX_MAX_PROGRAM_SIZE));
        assertThat(EnvoyRegex.check(regex)).isInstanceOf(EnvoyRegex.Refused.class);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            value = {
                "/\\x{100}           | has the escape \\x{100}, which Envoy refuses: its RE2 runs in Latin-1 mode",
                "/caf\\xE9           | matches as the single byte 0xE9, not as the character U+00E9",
                "/café               | non-ASCII character 'é' (U+00E9); Envoy matches regexes byte by byte",
                "/\\p{L}+            | uses the Unicode class '\\p...'",
                "/[\\p{Greek}]       | uses the Unicode class",
                "/((a{10}){10}){11}  | nests repetitions whose counts multiply to more than 1000 (at {11})",
                "/a{1001}            | has the repetition {1001}, above RE2's limit of 1000; use + or *",
                "/a{3,2}             | whose maximum is below its minimum",
                "/a**                | two repetition operators in a row",
                "*/a                 | has the repetition operator '*' at offset 0 with nothing before it to repeat",
                "/(a                 | has a '(' at offset 1 that is never closed; add the missing ')'",
                "/a)                 | has an unmatched ')' at offset 2",
                "/[a                 | has a '[' at offset 1 that is never closed",
                "/[z-a]              | has the character range z-a whose end is before its start",
                "/[[:foo:]]          | unknown character class [:foo:]; RE2 knows",
                "/(?=a)              | uses a look-around assertion",
                "/(a)\\1             | uses the backreference \\1, which RE2 does not support",
                "/\\q                | invalid escape sequence '\\q'",
                "/(?x)a              | unsupported group syntax '(?x'",
                "/(?P<n>a)(?P<n>b)   | names two capture groups 'n'",
                "/a\\                | ends with a lone backslash",
            })
    void refusalsSayWhyAndWhatToWriteInstead(String regex, String expected) {
        assertThat(refusal(regex)).contains(expected);
    }

    @Test
    void deeplyNestedGroupsAreRefusedInsteadOfOverflowingTheStack() {
        String regex = "(".repeat(5000) + "a" + ")".repeat(5000);
        assertThat(refusal(regex)).startsWith("nests groups more than 100 deep");
    }

    @Test
    void theLongestCountedRepetitionRe2AllowsIsMeasuredNotCrashedOn() {
        assertThat(refusal("[a-z]{0,1000}[0-9]{0,1000}")).contains("RE2 program of up to");
    }

    @Test
    void anEmptyRegexIsRefusedWithTheRegexThatMatchesAnything() {
        assertThat(refusal("")).isEqualTo("is empty, which Envoy refuses; write .* to match anything");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {"/get|5", "(a{2}){500}|2004", "\\C|5", "(?i)/API/v[0-9]+|12"})
    void acceptedRegexesCarryAProgramSizeBound(String regex, int atLeast) {
        assertThat(EnvoyRegex.check(regex, Integer.MAX_VALUE))
                .isInstanceOfSatisfying(
                        EnvoyRegex.Accepted.class,
                        a -> assertThat(a.programSizeBound()).isGreaterThanOrEqualTo(atLeast));
    }
}
