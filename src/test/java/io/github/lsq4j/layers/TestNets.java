package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * Twin networks for the tests: the same architecture built from stock DL4J layers or from LSQ layers,
 * and the parameter copy between them (stock conv weights are [nOut, nIn, kH, kW], LSQ conv weights
 * [kH, kW, nIn, nOut]).
 */
final class TestNets {
    private TestNets() {
    }

    /** How the LSQ layers of a twin are configured. */
    enum Quant {
        /** Quantization off: must equal the stock net. */
        OFF,
        /** 4-bit weights and inputs. */
        ON
    }

    static org.deeplearning4j.nn.conf.layers.Layer conv(boolean lsq, Quant q, int nOut, int kernel, int stride,
                                                        int pad, int dilation, ConvolutionMode mode,
                                                        Activation act, boolean bias) {
        if (lsq) {
            return new LsqConv2D.Builder().nOut(nOut).kernelSize(kernel).stride(stride).padding(pad).dilation(dilation)
                    .convolutionMode(mode).activation(act).hasBias(bias).quantize(q == Quant.ON).build();
        }
        return new ConvolutionLayer.Builder().nOut(nOut).kernelSize(kernel, kernel).stride(stride, stride)
                .padding(pad, pad).dilation(dilation, dilation).convolutionMode(mode).activation(act).hasBias(bias)
                .build();
    }

    static org.deeplearning4j.nn.conf.layers.Layer depthwise(boolean lsq, Quant q, int multiplier, int kernel,
                                                             int stride, int pad, ConvolutionMode mode,
                                                             Activation act, boolean bias) {
        if (lsq) {
            return new LsqDepthwiseConv2D.Builder().depthMultiplier(multiplier).kernelSize(kernel).stride(stride)
                    .padding(pad).convolutionMode(mode).activation(act).hasBias(bias).quantize(q == Quant.ON).build();
        }
        return new DepthwiseConvolution2D.Builder().depthMultiplier(multiplier).kernelSize(kernel, kernel)
                .stride(stride, stride).padding(pad, pad).convolutionMode(mode).activation(act).hasBias(bias).build();
    }

    static org.deeplearning4j.nn.conf.layers.Layer dense(boolean lsq, Quant q, int nOut, Activation act, boolean bias) {
        if (lsq) {
            return new LsqDense.Builder().nOut(nOut).activation(act).hasBias(bias).quantize(q == Quant.ON).build();
        }
        return new DenseLayer.Builder().nOut(nOut).activation(act).hasBias(bias).build();
    }

    static OutputLayer output(int nOut) {
        return new OutputLayer.Builder().nOut(nOut).activation(Activation.SOFTMAX)
                .lossFunction(LossFunctions.LossFunction.MCXENT).build();
    }

    /**
     * A stack of three convolutions (Truncate with padding, Same with stride 2, dilated Truncate without
     * bias) with a depthwise convolution (depth multiplier 2, stride 2) after the first, two dense layers (one
     * without bias) and a softmax output, on 1x10x10 input.
     */
    static MultiLayerNetwork mln(boolean lsq, Quant q, DataType dt, IUpdater updater, long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(dt).updater(updater)
                .weightInit(WeightInit.XAVIER).list()
                .layer(conv(lsq, q, 3, 3, 1, 1, 1, ConvolutionMode.Truncate, Activation.TANH, true))
                .layer(depthwise(lsq, q, 2, 3, 2, 1, ConvolutionMode.Truncate, Activation.TANH, true))
                .layer(conv(lsq, q, 4, 3, 2, 0, 1, ConvolutionMode.Same, Activation.RELU, true))
                .layer(conv(lsq, q, 2, 2, 1, 0, 2, ConvolutionMode.Truncate, Activation.IDENTITY, false))
                .layer(dense(lsq, q, 6, Activation.SIGMOID, true))
                .layer(dense(lsq, q, 5, Activation.TANH, false))
                .layer(output(3))
                .setInputType(InputType.convolutional(10, 10, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /**
     * conv - BN - ReLU - depthwise conv - conv - BN - add (residual) - ReLU - dense - dense - softmax, on
     * 2x8x8 input.
     */
    static ComputationGraph graph(boolean lsq, Quant q, DataType dt, IUpdater updater, long seed, Activation act) {
        return graph(lsq, q, dt, updater, seed, act, 8);
    }

    /** {@link #graph(boolean, Quant, DataType, IUpdater, long, Activation)} on 2 x hw x hw input. */
    static ComputationGraph graph(boolean lsq, Quant q, DataType dt, IUpdater updater, long seed, Activation act,
                                  int hw) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(dt)
                .updater(updater).weightInit(WeightInit.XAVIER).graphBuilder()
                .addInputs("in")
                .addLayer("c1", conv(lsq, q, 3, 3, 1, 1, 1, ConvolutionMode.Truncate, Activation.IDENTITY, true), "in")
                .addLayer("bn1", new BatchNormalization.Builder().build(), "c1")
                .addLayer("a1", new ActivationLayer.Builder().activation(act).build(), "bn1")
                .addLayer("dw", depthwise(lsq, q, 1, 3, 1, 0, ConvolutionMode.Same, Activation.IDENTITY, false), "a1")
                .addLayer("c2", conv(lsq, q, 3, 3, 1, 0, 1, ConvolutionMode.Same, Activation.IDENTITY, false), "dw")
                .addLayer("bn2", new BatchNormalization.Builder().build(), "c2")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn2", "a1")
                .addLayer("a2", new ActivationLayer.Builder().activation(act).build(), "add")
                .addLayer("d1", dense(lsq, q, 6, Activation.TANH, true), "a2")
                .addLayer("d2", dense(lsq, q, 4, Activation.SIGMOID, true), "d1")
                .addLayer("out", output(3), "d2")
                .setOutputs("out")
                .setInputTypes(InputType.convolutional(hw, hw, 2)).build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /** Copies W and b of every stock conv/dense layer into the LSQ layer at the same place. */
    static void copyStockParams(Model stock, Model lsq) {
        Layer[] s = layers(stock);
        Layer[] l = layers(lsq);
        for (int i = 0; i < s.length; i++) {
            Layer target = l[i];
            if (s[i].numParams() == 0) {
                continue;
            }
            if (!(target instanceof LsqRuntimeLayer)) {
                target.setParams(s[i].params().dup());
                continue;
            }
            for (Map.Entry<String, INDArray> e : s[i].paramTable().entrySet()) {
                INDArray param = target.getParam(e.getKey());
                param.assign(toLsqLayout(e.getValue(), param));
            }
        }
    }

    /**
     * A stock parameter (or gradient) in the layout of its LSQ twin: conv weights [nOut, nIn, kH, kW] to
     * [kH, kW, nIn, nOut]; depthwise weights [kH, kW, nIn, m] reshaped to [kH, kW, 1, nIn * m]; anything
     * else unchanged.
     */
    static INDArray toLsqLayout(INDArray stockParam, INDArray lsqTwin) {
        if (stockParam.rank() != 4) {
            return stockParam;
        }
        INDArray permuted = stockParam.permute(2, 3, 1, 0);
        return Arrays.equals(permuted.shape(), lsqTwin.shape()) ? permuted : stockParam.reshape(lsqTwin.shape());
    }

    static Layer[] layers(Model m) {
        return m instanceof ComputationGraph cg ? cg.getLayers() : ((MultiLayerNetwork) m).getLayers();
    }

    static INDArray input(DataType dt, long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(dt, shape).subi(0.5).muli(2);
    }

    static INDArray labels(DataType dt, int n, int classes) {
        INDArray y = Nd4j.zeros(dt, n, classes);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i * 7 + 3) % classes, 1.0);
        }
        return y;
    }

    static double maxAbsDiff(INDArray a, INDArray b) {
        assertArrayEquals(b.shape(), a.shape(), "shapes differ: " + shape(b) + " vs " + shape(a));
        return Transforms.absDiffMax(a, b);
    }

    static void assertClose(INDArray expected, INDArray actual, double tol, String what) {
        double d = maxAbsDiff(actual.castTo(DataType.DOUBLE), expected.castTo(DataType.DOUBLE));
        assertTrue(d <= tol, what + ": max |difference| " + d + " > " + tol + "\nexpected " + expected + "\nactual "
                + actual);
    }

    static void assertAllFinite(INDArray a, String what) {
        double[] v = a.castTo(DataType.DOUBLE).dup().data().asDouble();
        for (int i = 0; i < v.length; i++) {
            assertTrue(Double.isFinite(v[i]), what + ": element " + i + " is " + v[i]);
        }
    }

    /** Small helpers over INDArrays. */
    static final class Transforms {
        private Transforms() {
        }

        static double absDiffMax(INDArray a, INDArray b) {
            return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        }
    }

    /**
     * Edits the JSON of a network configuration: applies {@code edit} to every LSQ layer object (an
     * object with a {@code weightQuantizer} property) and returns the edited JSON.
     *
     * @param json the configuration's JSON ({@code toJson()})
     * @param edit the edit of one LSQ layer object
     * @return the edited JSON
     * @throws AssertionError if the JSON holds no LSQ layer
     */
    static String editLsqLayerJson(String json, Consumer<ObjectNode> edit) {
        ObjectMapper mapper = NeuralNetConfiguration.mapper();
        try {
            JsonNode root = mapper.readTree(json);
            int edited = editLsqLayers(root, edit);
            assertTrue(edited > 0, "no LSQ layer in the JSON: " + json);
            return mapper.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reading the MultiLayerConfiguration JSON fails; the exception or one of its causes mentions every fragment. */
    static void assertJsonRefused(String json, String... fragments) {
        Exception e = assertThrows(Exception.class, () -> MultiLayerConfiguration.fromJson(json));
        StringBuilder chain = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            chain.append(t.getMessage()).append(" | ");
        }
        for (String f : fragments) {
            assertTrue(chain.toString().contains(f), "'" + chain + "' should mention '" + f + "'");
        }
    }

    private static int editLsqLayers(JsonNode node, Consumer<ObjectNode> edit) {
        int edited = 0;
        if (node instanceof ObjectNode o && o.has("lsq")) {
            edit.accept(o);
            edited++;
        }
        for (JsonNode child : node) {
            edited += editLsqLayers(child, edit);
        }
        return edited;
    }

    static String shape(INDArray a) {
        return Arrays.toString(a.shape());
    }
}
