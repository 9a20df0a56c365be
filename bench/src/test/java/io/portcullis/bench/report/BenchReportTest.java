package io.portcullis.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report step of bench/run, on part files as another part (jmh, datapath) would write them. */
class BenchReportTest {

    private static final String ADS_JSON = """
            {"part": "ads", "label": "after", "started": "2026-11-26T19:00:00Z", "machine": "2 cores",
             "rows": [
              {"what": "one identity's policy changed -> all 10 of its sidecars have it",
               "size": "1000 sidecars, 200 policies", "unit": "ms", "samples": 20,
               "p50": 47.25, "p90": 120.0, "p99": 219.0, "max": 230.0,
               "cpu": "p50 130 ms/change", "load": "1.52 1.40 1.21", "target": "p99 < 100 ms"},
              {"what": "MeshConfig changed -> all 1000 sidecars have it (from the control plane receiving the change)",
               "size": "1000 sidecars, 200 policies", "unit": "ms", "load": "1.52 1.40 1.21",
               "note": "n/a: the server has no portcullis_config_source_last_update_timestamp_seconds"}
             ]}
            """;

    private static final String DATAPATH_JSON = """
            {"part": "datapath", "rows": [
              {"what": "rps at saturation, sidecar", "size": "1 connection", "unit": "rps", "value": 17012.4,
               "load": "0.90 0.80 0.70", "someFieldALaterPartAdds": true}
            ]}
            """;

    @Test
    void reportRendersOneMarkdownTableOfEveryPartsRowsWithNaForWhatWasNotMeasured(@TempDir Path results)
            throws Exception {
        Files.writeString(results.resolve("ads.json"), ADS_JSON);
        Files.writeString(results.resolve("datapath.json"), DATAPATH_JSON);

        assertThat(BenchReport.report(results)).isZero();

        List<String> table = Files.readAllLines(results.resolve("results.md"));
        assertThat(table)
                .contains("| part | what | size | p50 | p99 | max | unit | CPU | load | target | note |")
                .contains("| ads | one identity's policy changed -> all 10 of its sidecars have it"
                        + " | 1000 sidecars, 200 policies | 47.3 | 219 | 230 | ms | p50 130 ms/change"
                        + " | 1.52 1.40 1.21 | p99 < 100 ms |  |")
                .contains("| datapath | rps at saturation, sidecar | 1 connection | 17012 | n/a | n/a | rps |  "
                        + "| 0.90 0.80 0.70 |  |  |");
        assertThat(table.stream().filter(line -> line.startsWith("| ads | MeshConfig changed")))
                .singleElement()
                .asString()
                .contains("| n/a | n/a | n/a | ms |")
                .contains("n/a: the server has no portcullis_config_source_last_update_timestamp_seconds");
    }

    @Test
    void reportDrawsThePercentilesOfTheLatencyRowsAsAPng(@TempDir Path results) throws Exception {
        Files.writeString(results.resolve("ads.json"), ADS_JSON);

        BenchReport.report(results);

        BufferedImage plot = ImageIO.read(results.resolve("plot.png").toFile());
        assertThat(plot).isNotNull();
        assertThat(plot.getWidth()).isGreaterThan(1000);
    }

    @Test
    void aRunWithoutAnyRowIsAFailureNotAnEmptyTable(@TempDir Path results) throws Exception {
        Files.writeString(results.resolve("ads.json"), "{\"part\": \"ads\", \"rows\": []}");

        assertThat(BenchReport.report(results)).isEqualTo(1);
    }

    @Test
    void compareMatchesRowsOfTwoRunsByPartWhatAndSize(@TempDir Path runs) throws Exception {
        Path before = Files.createDirectories(runs.resolve("before"));
        Path after = Files.createDirectories(runs.resolve("after"));
        Files.writeString(before.resolve("ads.json"), ADS_JSON);
        Files.writeString(after.resolve("ads.json"), ADS_JSON.replace("\"p50\": 47.25", "\"p50\": 12.0"));

        assertThat(BenchReport.compare(before, after)).isZero();

        assertThat(Files.readAllLines(after.resolve("compare.md")))
                .contains("| ads | one identity's policy changed -> all 10 of its sidecars have it"
                        + " | 1000 sidecars, 200 policies | 47.3 | 219 | 12.0 | 219 | ms | p99 < 100 ms |");
    }
}
