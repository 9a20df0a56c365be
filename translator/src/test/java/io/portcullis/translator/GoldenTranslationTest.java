/*
 * Golden translation tests: each directory under translator/src/test/resources/testdata/ is one case
 * (input.yaml + identities.txt -> expected.yaml). expected.yaml is the full TranslationReport
 * (problems, per identity model and xDS) and is the reviewed specification of the translator's output.
 *
 * After an INTENDED change to the output, regenerate every expected.yaml and review the diff:
 *
 *   mvn -B -ntp -pl translator -am test -Dtest=GoldenTranslationTest -Dsurefire.failIfNoSpecifiedTests=false -Dportcullis.updateGolden=true
 *   git diff translator/src/test/resources/testdata
 *
 * With that system property set the test rewrites the expected files instead of comparing (and passes).
 * To add a case, create testdata/<behaviour>/input.yaml and identities.txt, run the command above and
 * read the new expected.yaml: it must show the behaviour the directory is named for.
 */
package io.portcullis.translator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.portcullis.translator.GoldenCases.GoldenCase;
import java.io.IOException;
import java.nio.file.Files;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GoldenTranslationTest {

    static Stream<GoldenCase> cases() {
        return GoldenCases.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void translationMatchesGoldenFile(GoldenCase golden) throws IOException {
        String actual = TranslationReport.toYaml(golden.translate());
        if (GoldenCases.UPDATE) {
            Files.writeString(golden.expected(), actual);
            return;
        }
        if (!Files.exists(golden.expected())) {
            fail("%s is missing; create it with -Dportcullis.updateGolden=true and review it", golden.expected());
        }
        String expected = Files.readString(golden.expected()).replace("\r\n", "\n");
        assertThat(actual)
                .as(
                        "%s differs from the translation; if the change is intended, rerun with"
                                + " -Dportcullis.updateGolden=true and review the diff",
                        golden.expected())
                .isEqualTo(expected);
    }

    /** The report must not depend on the order resources or identities were given in. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void translationIsDeterministic(GoldenCase golden) {
        String first = TranslationReport.toYaml(golden.translate());
        assertThat(TranslationReport.toYaml(golden.translate())).isEqualTo(first);
        assertThat(TranslationReport.toYaml(golden.translateReversed())).isEqualTo(first);
    }

    /** A stray directory (typo in input.yaml's name) would otherwise be silently skipped. */
    @Test
    void everyCaseDirectoryIsComplete() {
        GoldenCases.all().forEach(golden -> {
            assertThat(golden.input()).exists();
            assertThat(golden.identitiesFile()).exists();
            if (!GoldenCases.UPDATE) {
                assertThat(golden.expected()).exists();
            }
        });
    }
}
