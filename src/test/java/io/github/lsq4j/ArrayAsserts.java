package io.github.lsq4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Element-wise comparisons that name the first element that differs. */
public final class ArrayAsserts {
    private ArrayAsserts() {
    }

    /**
     * Asserts |expected - actual| <= tol * max(1, |expected|) element-wise.
     *
     * @param what   what is compared, for the message
     * @param labels a label per element (e.g. the golden kind), or null
     */
    public static void assertClose(String what, double[] expected, double[] actual, double tol, String[] labels) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double bound = tol * Math.max(1.0, Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - actual[i]) <= bound)) {
                fail(what + "[" + i + "]" + (labels == null ? "" : " (" + labels[i] + ")") + ": expected "
                        + expected[i] + ", got " + actual[i]);
            }
        }
    }

    public static void assertClose(String what, double[] expected, double[] actual, double tol) {
        assertClose(what, expected, actual, tol, null);
    }
}
