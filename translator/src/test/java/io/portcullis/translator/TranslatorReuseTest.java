package io.portcullis.translator;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.translator.GoldenCases.GoldenCase;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The control plane keeps one translator for every change, and its resource builder reuses what an identity's
 * previous build made (decision loggers, route tables). That must never show in the output: here one
 * translator translates every golden case in turn, forwards then backwards, so each identity is built after
 * builds of other models of it (other policies, sampling, audit, passthrough), and each case must get exactly
 * the report, versions included, that a fresh translator gives it.
 */
class TranslatorReuseTest {

    @Test
    void aTranslatorThatBuiltOtherCasesGivesEachCaseWhatAFreshTranslatorGives() {
        EgressTranslator shared = new EgressTranslator();
        List<GoldenCase> cases = GoldenCases.all().toList();
        for (List<GoldenCase> pass : List.of(cases, cases.reversed(), cases)) {
            for (GoldenCase golden : pass) {
                String fresh = TranslationReport.toYaml(golden.translate());
                String reused = TranslationReport.toYaml(shared.translate(golden.snapshot(), golden.identities()));
                assertThat(reused).as(golden.name()).isEqualTo(fresh);
            }
        }
    }
}
