package io.github.lsq4j.op;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.layers.LsqDense;
import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.Quantizer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** SameDiff's per-op lines stay off standard output; everything else still reaches it. */
class QuietSameDiffTest {

    private static SameDiff graph() {
        SameDiff sd = SameDiff.create();
        SDVariable v = sd.var("v", Nd4j.createFromArray(0.5, -0.25, 1.0));
        SDVariable s = sd.var("s", Nd4j.createFromArray(0.1));
        LsqOp.quantize(sd, "q", v, s, Quantizer.signed(4).withGradientScale(GradientScale.none()), false)
                .value().sum().rename("loss").markAsLoss();
        return sd;
    }

    /** Runs the action with System.out captured, and returns what reached it. */
    private static String stdout(Supplier<?> action) {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        try {
            action.get();
        } finally {
            System.setOut(original);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void sameDiffM21PrintsALinePerDifferentiatedOp() {
        // If a later ND4J stops printing, this fails, and QuietSameDiff can go.
        String out = stdout(() -> graph().calculateGradients(null, "v", "s"));
        assertTrue(out.contains(QuietSameDiff.GRADIENT_LINE_PREFIX), out);
    }

    @Test
    void insideCallTheLinesAreDivertedAndOtherOutputPasses() {
        PrintStream[] during = new PrintStream[1];
        String out = stdout(() -> {
            PrintStream outer = System.out;
            Map<String, INDArray> grads = QuietSameDiff.call(() -> {
                during[0] = System.out;
                System.out.println("a line of the user's");
                return graph().calculateGradients(null, "v", "s");
            });
            assertEquals(3, grads.get("v").length());
            assertSame(outer, System.out, "the stream in place before is put back");
            return grads;
        });
        assertFalse(out.contains(QuietSameDiff.GRADIENT_LINE_PREFIX), out);
        assertTrue(out.contains("a line of the user's"), out);
        assertTrue(during[0] != null && during[0] != System.out);
    }

    @Test
    void lsqLayersTrainWithoutTheLinesOrSpuriousWarnings() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
                .dataType(DataType.FLOAT).list()
                .layer(new LsqDense.Builder().nIn(4).nOut(3).activation(Activation.RELU).bits(4).inputSigned(true)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 4);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 2);
        y.getColumn(0).assign(1);
        PrintStream originalErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        String out;
        try {
            out = stdout(() -> {
                net.fit(x, y);
                net.fit(x, y);
                return null;
            });
        } finally {
            System.setErr(originalErr);
        }
        assertFalse(out.contains(QuietSameDiff.GRADIENT_LINE_PREFIX), out);
        // nor the warning SameDiff logs for every BitCast of the quantizer when it copies the graph
        String log = err.toString(StandardCharsets.UTF_8);
        assertFalse(log.contains("No fields found for property name"), log);
    }
}
