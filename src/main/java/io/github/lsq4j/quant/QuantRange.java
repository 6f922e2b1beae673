package io.github.lsq4j.quant;

/**
 * The integer range {@code [-Qn, Qp]} of a quantizer with a given bit width and signedness.
 *
 * <p>Signed data (weights, inputs that can be negative) uses {@code Qn = 2^(b-1)},
 * {@code Qp = 2^(b-1) - 1}; unsigned data (inputs after a ReLU) uses {@code Qn = 0},
 * {@code Qp = 2^b - 1}. Bit widths from {@value #MIN_BITS} to {@value #MAX_BITS} are supported.
 */
public final class QuantRange {
    /** The smallest supported bit width. */
    public static final int MIN_BITS = 2;
    /** The largest supported bit width. */
    public static final int MAX_BITS = 8;

    private final int bits;
    private final boolean signed;

    private QuantRange(int bits, boolean signed) {
        this.bits = bits;
        this.signed = signed;
    }

    /**
     * The range for {@code bits} bits.
     *
     * @param bits   bit width, {@value #MIN_BITS} to {@value #MAX_BITS}
     * @param signed whether the quantized data can be negative
     * @return the range
     * @throws IllegalArgumentException if {@code bits} is out of range
     */
    public static QuantRange of(int bits, boolean signed) {
        checkBits("bits", bits);
        return new QuantRange(bits, signed);
    }

    /**
     * Validates a bit width.
     *
     * @param what a name for the value in the error message, e.g. {@code "weightBits of layer conv1"}
     * @param bits the bit width to check
     * @throws IllegalArgumentException naming {@code what} and the value if it is outside 2..8
     */
    public static void checkBits(String what, int bits) {
        if (bits < MIN_BITS || bits > MAX_BITS) {
            throw new IllegalArgumentException(what + " must be between " + MIN_BITS + " and " + MAX_BITS
                    + ", got " + bits);
        }
    }

    /** @return the bit width */
    public int bits() {
        return bits;
    }

    /** @return whether the range includes negative codes */
    public boolean signed() {
        return signed;
    }

    /** @return {@code Qn}, the magnitude of the most negative code (0 when unsigned) */
    public int qn() {
        return signed ? 1 << (bits - 1) : 0;
    }

    /** @return {@code Qp}, the largest code */
    public int qp() {
        return signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantRange r && r.bits == bits && r.signed == signed;
    }

    @Override
    public int hashCode() {
        return 31 * bits + (signed ? 1 : 0);
    }

    @Override
    public String toString() {
        return "QuantRange(" + bits + " bits, " + (signed ? "signed" : "unsigned") + ", [" + -qn() + ", " + qp() + "])";
    }
}
