package io.github.lsq4j;

import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.Quantizer;
import io.github.lsq4j.quant.StepLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * The golden numbers of {@code src/test/resources/golden/lsq_golden.json}, written by the committed
 * generator {@code generate_lsq_golden.py} beside it (PyTorch autograd on the paper's pseudocode, float64).
 */
public final class GoldenCases {
    private static final String RESOURCE = "/golden/lsq_golden.json";

    private GoldenCases() {
    }

    /** One generated case: inputs and the paper's outputs. */
    public record Case(String name, int bits, boolean signed, long[] shape, int axis, double g,
                       double[] v, double[] s, double[] upstream, String[] kind,
                       double[] codes, double[] vhat, double[] dv, double[] ds) {
        public QuantRange range() {
            return QuantRange.of(bits, signed);
        }

        public StepLayout layout() {
            return StepLayout.forAxis(axis);
        }

        /** The case's quantizer (bits, signedness, step layout) with a given gradient-scale policy. */
        public Quantizer quantizer(GradientScale scale) {
            return new Quantizer(bits, signed, axis, scale);
        }

        /** The case's quantizer with the paper's gradient-scale policy (for code that takes g directly). */
        public Quantizer quantizer() {
            return quantizer(GradientScale.paper());
        }

        /** Whether g is the paper's 1/sqrt(N*Qp), N the elements sharing one step. */
        public boolean usesPaperScale() {
            double paper = GradientScale.paperFormula(layout().elementsPerStep(shape), range());
            return Math.abs(paper - g) <= 1e-15 * paper;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** @return every case of the golden file */
    public static List<Case> all() {
        try (InputStream in = GoldenCases.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + RESOURCE);
            }
            JsonNode root = new ObjectMapper().readTree(in);
            List<Case> cases = new ArrayList<>();
            for (JsonNode c : root.get("cases")) {
                cases.add(new Case(c.get("name").asText(), c.get("bits").asInt(), c.get("signed").asBoolean(),
                        longs(c.get("shape")), c.get("axis").asInt(), c.get("g").asDouble(),
                        doubles(c.get("v")), doubles(c.get("s")), doubles(c.get("upstream")), strings(c.get("kind")),
                        doubles(c.get("codes")), doubles(c.get("vhat")), doubles(c.get("dv")), doubles(c.get("ds"))));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    private static String[] strings(JsonNode array) {
        String[] out = new String[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asText();
        }
        return out;
    }
}
