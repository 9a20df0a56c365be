package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The settings are applied to a real JVM (a child, so that its command line can be chosen and this test JVM's
 * flags stay as they are): what it reports afterwards is what the serving JVM runs with.
 */
class HeapFootprintTest {

    @Test
    void aJvmStartedWithDefaultsGivesBackHeapAboveThirtyPercentFreeAndCollectsWhenIdleForAMinute() throws Exception {
        List<String> flags = childJvmFlagsAfterApply();

        assertThat(flags)
                .containsExactly(
                        "applied=[MinHeapFreeRatio, MaxHeapFreeRatio, G1PeriodicGCInterval]",
                        "MinHeapFreeRatio=10",
                        "MaxHeapFreeRatio=30",
                        "G1PeriodicGCInterval=60000");
    }

    @Test
    void aFlagGivenOnTheCommandLineIsKeptAndOneThatWouldContradictItIsNotApplied() throws Exception {
        // MaxHeapFreeRatio=30 would be below this minimum: the JVM refuses it, and serve keeps the JVM's default.
        List<String> flags = childJvmFlagsAfterApply("-XX:MinHeapFreeRatio=50", "-XX:G1PeriodicGCInterval=0");

        assertThat(flags)
                .containsExactly("applied=[]", "MinHeapFreeRatio=50", "MaxHeapFreeRatio=70", "G1PeriodicGCInterval=0");
    }

    /** Runs {@link ApplyAndPrint} in a JVM with {@code options}; returns the lines it printed. */
    private static List<String> childJvmFlagsAfterApply(String... options) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:+UseG1GC");
        command.addAll(List.of(options));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ApplyAndPrint.class.getName()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(child.exitValue()).as(out).isZero();
        // Only ApplyAndPrint's own lines (name=value); a log line about a refused setting is not one.
        return out.lines().filter(line -> line.matches("[A-Za-z0-9]+=.*")).toList();
    }

    /** The child: applies the settings as serve does, then prints what the JVM reports. */
    static final class ApplyAndPrint {
        public static void main(String[] args) {
            List<String> applied = HeapFootprint.ofThisJvm().apply();
            System.out.println("applied=" + applied);
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            for (HeapFootprint.Setting setting : HeapFootprint.SETTINGS) {
                System.out.println(
                        setting.flag() + "=" + vm.getVMOption(setting.flag()).getValue());
            }
        }
    }
}
