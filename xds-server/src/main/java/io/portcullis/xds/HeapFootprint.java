package io.portcullis.xds;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How much memory the control plane's heap keeps once it no longer needs it. A connect storm (a thousand sidecars
 * asking at once) allocates fast, and G1 grows the committed heap for it: in the bench, 68 MB to 224 MB while the
 * live data went from 22 MB to 39 MB. With the JVM's defaults that memory stays: a collection gives back only what
 * exceeds 70% free ({@code MaxHeapFreeRatio}), so after the storm the heap stayed at 136 MB for 38 MB live, and
 * without a collection (an idle server collects nothing) it is never looked at again. That was most of the 85 KiB
 * of RSS per connected sidecar the bench measured, against a live heap of 17 KiB per sidecar.
 *
 * <p>The settings are the JVM's manageable flags, set from {@code serve} itself so that every way of starting it
 * (the launcher, {@code java -jar}, the container image) gets them; one the JVM was given on its command line or
 * in {@code JAVA_TOOL_OPTIONS} is left as given. None changes what is served, only when memory is returned: the
 * heap may still grow to {@code -Xmx} whenever the load needs it.
 */
public record HeapFootprint(HotSpotDiagnosticMXBean vm) {

    private static final Logger LOG = LoggerFactory.getLogger(HeapFootprint.class);

    /** One manageable flag and the value serve gives it. */
    public record Setting(String flag, String value) {}

    /**
     * In the order they are applied: the minimum free ratio first, since the JVM refuses a maximum below the
     * current minimum (40 by default).
     */
    public static final List<Setting> SETTINGS = List.of(
            // After a collection the heap grows until at least 10% of it is free (default 40%): room for the
            // next allocations, without committing 40% more than the live data for nothing.
            new Setting("MinHeapFreeRatio", "10"),
            // After a collection the heap shrinks until at most 30% of it is free (default 70%): committed
            // memory follows the live data down to 1.4 times it instead of 3.3 times. Safe: a heap too small
            // for the allocation rate grows again at the next young collection (G1's GC time goal), as before.
            new Setting("MaxHeapFreeRatio", "30"),
            // A concurrent cycle when there was no collection for a minute, so that an idle server (a mesh at
            // rest allocates almost nothing) applies MaxHeapFreeRatio at its remark and gives the memory back.
            // Costs one concurrent mark a minute, and only when nothing else collected.
            new Setting("G1PeriodicGCInterval", "60000"));

    /** The running JVM's flags. */
    public static HeapFootprint ofThisJvm() {
        return new HeapFootprint(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class));
    }

    /**
     * Sets each of {@link #SETTINGS} the JVM was not given explicitly (its value is the JVM's default or its
     * ergonomic choice); returns the flags it set.
     */
    public List<String> apply() {
        List<String> applied = new ArrayList<>();
        for (Setting setting : SETTINGS) {
            VMOption current = vm.getVMOption(setting.flag());
            if (current.getOrigin() != VMOption.Origin.DEFAULT && current.getOrigin() != VMOption.Origin.ERGONOMIC) {
                LOG.debug(
                        "{}={} was set explicitly ({}): kept", setting.flag(), current.getValue(), current.getOrigin());
                continue;
            }
            try {
                vm.setVMOption(setting.flag(), setting.value());
                applied.add(setting.flag());
            } catch (IllegalArgumentException e) {
                // Out of range given another explicit flag (e.g. -XX:MinHeapFreeRatio=50): the JVM's own sizing
                // stays, which is only less frugal.
                LOG.warn("{}={} not applied: {}", setting.flag(), setting.value(), e.getMessage());
            }
        }
        return applied;
    }
}
