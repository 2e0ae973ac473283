package dev.shears.engine.simd;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class SimdProbeTest {
    @Test
    void offForcesScalar() {
        SimdProbe.Decision d = SimdProbe.probe("off");
        assertFalse(d.enabled());
        assertEquals(1, d.floatLanes());
        assertTrue(d.describe().startsWith("scalar"));
    }

    @Test
    void autoEnablesWhenTheModuleIsPresent() {
        // surefire starts the JVM with --add-modules jdk.incubator.vector on HotSpot
        SimdProbe.Decision d = SimdProbe.probe("auto");
        assertTrue(d.enabled(), d.describe());
        assertTrue(d.bits() >= 128);
    }

    @Test
    void forcedWidthIsHonouredOrExplained() {
        SimdProbe.Decision d = SimdProbe.probe("128");
        assertTrue(d.enabled());
        assertEquals(4, d.floatLanes());
        SimdProbe.Decision wide = SimdProbe.probe("512");
        if (!wide.enabled()) assertTrue(wide.reason().contains("exceeds"), wide.reason());
    }

    @Test
    void badSettingNamesTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SimdProbe.probe("fast"));
        assertTrue(e.getMessage().contains("-Dshears.simd=fast"));
        assertThrows(IllegalArgumentException.class, () -> SimdProbe.probe("64"));
    }

    @Test
    void propertyDecidesTheRunWideChoice() {
        String setting = System.getProperty("shears.simd", "auto");
        assertEquals(!setting.equals("off"), SimdProbe.decision().enabled());
    }
}
