package dev.shears.engine.simd;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * Decides once, at start-up, whether the Vector API twins run, and at which width; logs one line
 * either way. Checks, in order: the {@code -Dshears.simd} override, that the
 * {@code jdk.incubator.vector} module is present, that the VM is HotSpot with C2 (the Vector API
 * is slow when interpreted or C1-compiled), and that the preferred width is at least 128 bits.
 * Incubator classes are touched only after the module check passed (through
 * {@link dev.shears.engine.kernels.simd.SimdWidth}). Not a CPU-feature detector beyond that.
 * Pinned by SimdProbeTest.
 */
public final class SimdProbe {
    private static final Logger LOG = Logger.getLogger("shears");
    private static volatile Decision decision;

    /** What the probe decided: {@code bits == 0} means the scalar twins. */
    public record Decision(boolean enabled, int bits, String reason) {
        /** Float lanes per vector, 1 when scalar. */
        public int floatLanes() {
            return enabled ? bits / 32 : 1;
        }

        public String describe() {
            return enabled ? "SIMD " + bits + "-bit (" + floatLanes() + " float lanes): " + reason : "scalar: " + reason;
        }
    }

    private SimdProbe() {}

    /** The decision, computed on first use and logged once. */
    public static Decision decision() {
        Decision d = decision;
        if (d == null) {
            synchronized (SimdProbe.class) {
                d = decision;
                if (d == null) {
                    d = probe(System.getProperty("shears.simd", "auto"));
                    LOG.fine(() -> "shears kernels: " + decision.describe());
                    decision = d;
                }
            }
        }
        return d;
    }

    /** The probe itself, for tests: {@code setting} is auto, off, 128, 256 or 512. */
    static Decision probe(String setting) {
        String s = setting.trim().toLowerCase(Locale.ROOT);
        if (s.equals("off") || s.equals("false") || s.equals("scalar")) {
            return new Decision(false, 0, "-Dshears.simd=off");
        }
        int forced = 0;
        if (!s.equals("auto") && !s.isEmpty()) {
            try {
                forced = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-Dshears.simd=" + setting + ": expected off, auto, 128, 256 or 512");
            }
            if (forced != 128 && forced != 256 && forced != 512) {
                throw new IllegalArgumentException("-Dshears.simd=" + setting + ": expected off, auto, 128, 256 or 512");
            }
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return new Decision(false, 0, "module jdk.incubator.vector not present; start java with --add-modules jdk.incubator.vector");
        }
        String vm = System.getProperty("java.vm.name", "");
        if (!vm.contains("HotSpot") && !vm.contains("OpenJDK")) {
            return new Decision(false, 0, "VM '" + vm + "' is not HotSpot; the Vector API would not be intrinsified");
        }
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:TieredStopAtLevel=") && !arg.endsWith("=4")) {
                return new Decision(false, 0, "C2 disabled by " + arg + "; the Vector API needs C2");
            }
            if (arg.equals("-Xint")) {
                return new Decision(false, 0, "interpreter only (-Xint)");
            }
        }
        int preferred = dev.shears.engine.kernels.simd.SimdWidth.preferredBits();
        if (forced != 0) {
            if (forced > preferred) {
                return new Decision(false, 0, "-Dshears.simd=" + forced + " exceeds this CPU's preferred width " + preferred + " bits");
            }
            return new Decision(true, forced, "forced by -Dshears.simd=" + forced);
        }
        if (preferred < 128) {
            return new Decision(false, 0, "preferred vector width " + preferred + " bits is below 128");
        }
        return new Decision(true, preferred, "preferred species of this CPU");
    }

    /** Logs the decision (called by the CLI once). */
    public static void log() {
        LOG.info("shears kernels: " + decision().describe());
    }
}
