package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CosineScheduleTest {

    @Test
    void cosineReachesZeroAtTheEndAndStaysThere() {
        CosineSchedule schedule = CosineSchedule.overIterations(0.1, 10);
        assertEquals(0.1, schedule.valueAt(0, 0), 1e-15);
        assertEquals(0.05, schedule.valueAt(5, 0), 1e-15);
        assertEquals(0.0, schedule.valueAt(10, 3), 1e-15);
        assertEquals(0.0, schedule.valueAt(11, 3), 1e-15);
    }

    @Test
    void badSettingsAreRefusedWithTheValue() {
        IllegalArgumentException steps = assertThrows(IllegalArgumentException.class,
                () -> CosineSchedule.overIterations(0.1, 0));
        assertTrue(steps.getMessage().contains("got 0"));
        assertThrows(IllegalArgumentException.class, () -> CosineSchedule.overIterations(Double.NaN, 10));
    }
}
