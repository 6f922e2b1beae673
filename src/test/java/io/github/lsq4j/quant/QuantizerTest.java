package io.github.lsq4j.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** The quantizer value: validation, derived range and layout, equality, toString and JSON. */
class QuantizerTest {

    private static String messageOf(Class<? extends Throwable> type, Executable run) {
        Throwable t = assertThrows(type, run);
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.append(c.getMessage()).append(" | ");
        }
        return all.toString();
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 1, 9, 12})
    void bitsOutsideTwoToEightAreRefusedNamingTheValue(int bits) {
        for (Executable make : List.<Executable>of(
                () -> new Quantizer(bits, true, Quantizer.PER_TENSOR, GradientScale.paper()),
                () -> Quantizer.signed(bits), () -> Quantizer.unsigned(bits),
                () -> Quantizer.signed(4).withBits(bits))) {
            String message = messageOf(IllegalArgumentException.class, make);
            assertTrue(message.contains("got " + bits) && message.contains("bits"), message);
        }
    }

    @Test
    void channelAxisBelowMinusOneIsRefusedNamingTheValue() {
        String message = messageOf(IllegalArgumentException.class,
                () -> new Quantizer(4, true, -2, GradientScale.paper()));
        assertTrue(message.contains("channelAxis") && message.contains("-2"), message);
        String perChannel = messageOf(IllegalArgumentException.class, () -> Quantizer.signed(4).perChannel(-2));
        assertTrue(perChannel.contains("-2"), perChannel);
        assertTrue(messageOf(IllegalArgumentException.class, () -> Quantizer.signed(4).withGradientScale(null))
                .contains("gradient scale"));
    }

    @Test
    void nullGradientScaleInTheConstructorMeansThePapers() {
        assertEquals(GradientScale.paper(), new Quantizer(4, true, Quantizer.PER_TENSOR, null).gradientScale());
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 5, 6, 7, 8})
    void rangeIsTheQuantRangeOfBitsAndSignedness(int bits) {
        assertEquals(QuantRange.of(bits, true), Quantizer.signed(bits).range());
        assertEquals(QuantRange.of(bits, false), Quantizer.unsigned(bits).range());
        assertEquals(QuantRange.of(bits, false), Quantizer.signed(bits).withSigned(false).perChannel(2).range());
    }

    @Test
    void accessorsAndCopies() {
        Quantizer q = new Quantizer(3, false, 1, GradientScale.fixed(0.25));
        assertEquals(3, q.bits());
        assertFalse(q.signed());
        assertEquals(1, q.channelAxis());
        assertEquals(GradientScale.fixed(0.25), q.gradientScale());
        assertTrue(q.isPerChannel());
        assertEquals(StepLayout.perChannel(1), q.layout());
        Quantizer t = q.perTensor();
        assertEquals(Quantizer.PER_TENSOR, t.channelAxis());
        assertFalse(t.isPerChannel());
        assertEquals(StepLayout.perTensor(), t.layout());
        assertEquals(new Quantizer(5, true, 3, GradientScale.none()),
                q.withBits(5).withSigned(true).perChannel(3).withGradientScale(GradientScale.none()));
        assertEquals(new Quantizer(3, false, 1, GradientScale.fixed(0.25)), q, "copies leave the original unchanged");
    }

    @Test
    void stepGradientScaleIsThePapersG() {
        long[] weights = {3, 3, 4, 8};
        assertEquals(GradientScale.paperFormula(3 * 3 * 4 * 8, QuantRange.of(4, true)),
                Quantizer.signed(4).stepGradientScale(weights, false), 1e-15);
        assertEquals(GradientScale.paperFormula(3 * 3 * 4, QuantRange.of(4, true)),
                Quantizer.signed(4).perChannel(3).stepGradientScale(weights, false), 1e-15);
        long[] inputs = {16, 3, 5, 5};
        assertEquals(GradientScale.paperFormula(3 * 5 * 5, QuantRange.of(2, false)),
                Quantizer.unsigned(2).stepGradientScale(inputs, true), 1e-15, "paper: one example's elements");
        assertEquals(GradientScale.paperFormula(16 * 3 * 5 * 5, QuantRange.of(2, false)),
                Quantizer.unsigned(2).withGradientScale(GradientScale.batchInclusive()).stepGradientScale(inputs, true),
                1e-15, "batch inclusive: every element");
        assertEquals(0.25, Quantizer.unsigned(2).withGradientScale(GradientScale.fixed(0.25))
                .stepGradientScale(inputs, true));
        assertEquals(1.0, Quantizer.unsigned(2).withGradientScale(GradientScale.none())
                .stepGradientScale(inputs, true));
    }

    @Test
    void equalsAndHashCodeSeeEveryField() {
        Quantizer q = new Quantizer(4, true, 3, GradientScale.fixed(0.5));
        Quantizer same = Quantizer.signed(4).perChannel(3).withGradientScale(GradientScale.fixed(0.5));
        assertEquals(q, same);
        assertEquals(q.hashCode(), same.hashCode());
        for (Quantizer other : List.of(q.withBits(5), q.withSigned(false), q.perChannel(1), q.perTensor(),
                q.withGradientScale(GradientScale.fixed(0.25)), q.withGradientScale(GradientScale.paper()),
                q.withGradientScale(GradientScale.batchInclusive()), q.withGradientScale(GradientScale.none()))) {
            assertNotEquals(q, other, other.toString());
        }
        assertNotEquals(q, null);
        assertNotEquals(q, "Quantizer");
    }

    @Test
    void toStringShowsEveryField() {
        String s = new Quantizer(3, false, 1, GradientScale.fixed(0.25)).toString();
        for (String f : new String[] {"3 bits", "unsigned", "per channel", "axis 1", "FIXED", "0.25"}) {
            assertTrue(s.contains(f), s + " should contain " + f);
        }
        String t = Quantizer.signed(8).toString();
        for (String f : new String[] {"8 bits", "signed", "per tensor", "PAPER"}) {
            assertTrue(t.contains(f), t + " should contain " + f);
        }
        assertFalse(t.contains("unsigned"), t);
    }

    static Stream<Quantizer> jsonCases() {
        return Stream.of(Quantizer.signed(4), Quantizer.unsigned(2),
                Quantizer.signed(3).withGradientScale(GradientScale.batchInclusive()),
                Quantizer.unsigned(8).withGradientScale(GradientScale.none()),
                Quantizer.signed(5).withGradientScale(GradientScale.fixed(0.25)),
                Quantizer.signed(4).perChannel(3),
                new Quantizer(6, false, 1, GradientScale.fixed(0.25)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jsonCases")
    void jsonRoundTripWithDl4jsMapper(Quantizer q) throws Exception {
        ObjectMapper mapper = NeuralNetConfiguration.mapper();
        String json = mapper.writeValueAsString(q);
        Quantizer restored = mapper.readValue(json, Quantizer.class);
        assertEquals(q, restored, json);
        assertEquals(q.gradientScale().mode(), restored.gradientScale().mode());
        assertEquals(Double.doubleToLongBits(q.gradientScale().fixedValue()),
                Double.doubleToLongBits(restored.gradientScale().fixedValue()));
        assertEquals(json, mapper.writeValueAsString(restored));
    }

    @Test
    void jsonWithBitsOutOfRangeIsRefusedNamingTheValue() throws Exception {
        ObjectMapper mapper = NeuralNetConfiguration.mapper();
        String json = mapper.writeValueAsString(Quantizer.signed(4));
        assertTrue(json.contains("\"bits\":4") || json.contains("\"bits\" : 4"), json);
        String edited = json.replaceFirst("\"bits\"(\\s*):(\\s*)4", "\"bits\"$1:$212");
        assertNotEquals(json, edited);
        String message = messageOf(Exception.class, () -> mapper.readValue(edited, Quantizer.class));
        assertTrue(message.contains("got 12"), message);
    }
}
