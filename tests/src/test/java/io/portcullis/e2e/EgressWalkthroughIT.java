package io.portcullis.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The guide's walkthrough ({@link GuideWalkthrough}) on the embedded directory source, driven with
 * {@code portcullis apply/delete/patch} as a user without Kubernetes would.
 */
class EgressWalkthroughIT extends GuideWalkthrough {

    @Override
    GuideCommands guide() {
        return cli;
    }

    @Override
    ControlPlaneProcess startControlPlane(LabWorkspace workspace) throws Exception {
        return new ControlPlaneProcess(workspace.cli(), workspace.workDir().resolve("control-plane.log"))
                .awaitHealthy();
    }

    @Override
    void step2_sourceSpecifics() throws Exception {
        step("2. apply an invalid Egress beside it: reported and skipped, httpbin-80 keeps working");
        cli.apply(Manifests.BAD_EGRESS);
        assertInvalidEgressReportedAndSkipped();
        step(
                "2. save httpbin-80's file in place like an editor (truncate, later write) beside a non-UTF-8 file: no gap");
        Path saved = cli.configDir().resolve("egress.curl.httpbin-80.yaml");
        String policy = Files.readString(saved);
        Files.write(cli.configDir().resolve("latin1.yaml"), new byte[] {'#', ' ', (byte) 0xE9, '\n'});
        Files.write(saved, new byte[0]);
        within(
                "the emptied file is reported, its policy kept",
                () -> sourceProblems().contains("empty: keeping") ? true : null);
        assertThat(sourceProblems()).contains("latin1.yaml: not valid UTF-8");
        assertThat(curlPod.curl(HTTPBIN_80).ok())
                .as("access while the file is empty")
                .isTrue();
        Files.writeString(saved, policy);
        Files.delete(cli.configDir().resolve("latin1.yaml"));
        within("the saved file is read again", () -> sourceProblems().equals("[]") ? true : null);
        assertThat(curlPod.curl(HTTPBIN_80).ok()).as("access after the save").isTrue();
    }
}
