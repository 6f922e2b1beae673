package io.github.lsq4j.op;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Whether two arrays hold exactly the same values: what a cache keyed on a copy of its inputs asks on
 * every use, so it must cost less than recomputing. Float arrays in CPU memory laid out alike (as an
 * array and its {@code dup}) are compared as memory, the JDK's vectorized mismatch over the two
 * buffers, several times faster than one quantizer pass; other arrays (double, other backends) through
 * ND4J's {@code neq} ({@code equalsWithEps} with a tolerance of 0 calls equal arrays different).
 */
public final class ArrayEquality {
    private ArrayEquality() {
    }

    /**
     * @param a an array
     * @param b another
     * @return whether they have the same shape and data type and equal values (a value and its negative
     *         zero count as different on the memory path: a cache then recomputes, which is harmless)
     */
    public static boolean sameValues(INDArray a, INDArray b) {
        if (a.dataType() != b.dataType() || !Arrays.equals(a.shape(), b.shape())) {
            return false;
        }
        if (FusedCpuQuantizer.applies(a, b)) {
            int n = Math.toIntExact(a.length());
            return FusedCpuQuantizer.floats(a).limit(n).mismatch(FusedCpuQuantizer.floats(b).limit(n)) == -1;
        }
        return !a.neq(b).any();
    }
}
