package io.github.lsq4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class QuantRangeTest {

    @ParameterizedTest(name = "{0} bits signed={1}: Qn={2} Qp={3}")
    @CsvSource({
        "2, true, 2, 1", "3, true, 4, 3", "4, true, 8, 7", "8, true, 128, 127",
        "2, false, 0, 3", "3, false, 0, 7", "4, false, 0, 15", "8, false, 0, 255"})
    void qnAndQpFollowThePaper(int bits, boolean signed, int qn, int qp) {
        QuantRange range = QuantRange.of(bits, signed);
        assertEquals(qn, range.qn());
        assertEquals(qp, range.qp());
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 1, 9, 16, 32})
    void bitsOutsideTwoToEightAreRefusedWithTheValue(int bits) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantRange.of(bits, true));
        assertTrue(e.getMessage().contains("got " + bits), e.getMessage());
    }
}
