package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Each LSQ layer's output equals integer arithmetic: integer codes of the weights and of the input,
 * an integer matmul or convolution (Java {@code long}), times {@code s_w * s_x}, plus the bias.
 */
class LsqIntegerEquivalenceTest {

    private static MultiLayerNetwork single(org.deeplearning4j.nn.conf.layers.Layer layer, InputType in, DataType dt) {
        Nd4j.setDefaultDataTypes(dt, dt);
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(21).dataType(dt)
                .updater(new Adam(0.05)).list().layer(layer).layer(TestNets.output(3)).setInputType(in).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** A few training steps so that steps and weights are not just their initial values. */
    private static void train(MultiLayerNetwork net, INDArray x) {
        INDArray y = TestNets.labels(x.dataType(), (int) x.size(0), 3);
        for (int i = 0; i < 3; i++) {
            net.fit(x, y);
        }
    }

    @ParameterizedTest(name = "{0} weights {1} bits, inputs {2} bits signed={3}, perChannel={4}")
    @CsvSource({"DOUBLE,4,8,true,false", "DOUBLE,2,3,false,true", "FLOAT,3,4,true,true"})
    void denseEqualsIntegerMatmul(DataType dt, int wBits, int xBits, boolean signed, boolean perChannel) {
        MultiLayerNetwork net = single(new LsqDense.Builder().name("fc").nIn(12).nOut(5).activation(Activation.IDENTITY)
                .weightBits(wBits).inputBits(xBits).inputSigned(signed).perChannelWeights(perChannel).build(),
                InputType.feedForward(12), dt);
        INDArray x = TestNets.input(dt, 31, 6, 12);
        train(net, x);
        INDArray x2 = TestNets.input(dt, 32, 7, 12).muli(1.3);
        INDArray out = net.feedForward(x2, false).get(1);

        LsqIntegerParams p = LsqLayers.integerParams(net, "fc");
        assertCodesInRange(p, x2);
        long[][] xc = toLong2(p.inputCodes(x2));
        long[][] wc = toLong2(p.weightCodes());
        double[] sw = p.weightSteps().castTo(DataType.DOUBLE).data().asDouble();
        double[] b = p.bias().castTo(DataType.DOUBLE).data().asDouble();
        double[][] expected = new double[xc.length][wc[0].length];
        for (int i = 0; i < xc.length; i++) {
            for (int j = 0; j < wc[0].length; j++) {
                long acc = 0;
                for (int k = 0; k < wc.length; k++) {
                    acc += xc[i][k] * wc[k][j];
                }
                expected[i][j] = acc * p.inputStep() * sw[perChannel ? j : 0] + b[j];
            }
        }
        assertMatches(Nd4j.createFromArray(expected), out, dt);
    }

    /** @param depthMultiplier 0 for an {@link LsqConv2D} with 3 output channels, else an {@link LsqDepthwiseConv2D} */
    @ParameterizedTest(name = "{0} {1} stride {2} pad {3} dilation {4}, weights {5} bits, perChannel={6}, depthwise x{7}")
    @CsvSource({"DOUBLE,Truncate,2,1,1,4,false,0", "DOUBLE,Same,2,0,1,2,true,0", "DOUBLE,Truncate,1,0,2,3,true,0",
            "FLOAT,Same,1,0,1,4,false,0", "FLOAT,Truncate,1,0,2,3,true,0", "FLOAT,Truncate,1,1,2,3,false,0",
            "DOUBLE,Same,2,0,1,2,true,1", "DOUBLE,Truncate,1,1,2,3,true,2", "FLOAT,Truncate,2,1,1,4,false,3"})
    void convEqualsIntegerConvolution(DataType dt, ConvolutionMode mode, int stride, int pad, int dilation, int wBits,
                                      boolean perChannel, int depthMultiplier) {
        int k = 3;
        LsqConv2D.GeometryBuilder<?> builder = depthMultiplier == 0 ? new LsqConv2D.Builder().nOut(3)
                : new LsqDepthwiseConv2D.Builder().depthMultiplier(depthMultiplier);
        MultiLayerNetwork net = single(builder.name("conv").nIn(2).kernelSize(k).stride(stride)
                .padding(pad).dilation(dilation).convolutionMode(mode).activation(Activation.IDENTITY)
                .weightBits(wBits).inputBits(4).inputSigned(false).perChannelWeights(perChannel).buildLayer(),
                InputType.convolutional(9, 9, 2), dt);
        INDArray x = TestNets.input(dt, 41, 4, 2, 9, 9).addi(1).divi(2); // in [0, 1): unsigned input
        train(net, x);
        INDArray x2 = TestNets.input(dt, 42, 3, 2, 9, 9).addi(1).muli(0.7);
        INDArray out = net.feedForward(x2, false).get(1);

        LsqIntegerParams p = LsqLayers.integerParams(net, "conv");
        assertCodesInRange(p, x2);
        int[] xc = p.inputCodes(x2).data().asInt();
        int[] wc = p.weightCodes().data().asInt(); // [kH, kW, nIn, nOut] (depthwise: [kH, kW, 1, nOut]), C order
        double[] sw = p.weightSteps().castTo(DataType.DOUBLE).data().asDouble();
        double[] b = p.bias().castTo(DataType.DOUBLE).data().asDouble();
        int n = 3;
        int c = 2;
        int h = 9;
        int o = depthMultiplier == 0 ? 3 : c * depthMultiplier;
        int kernelInputs = depthMultiplier == 0 ? c : 1; // input channels per kernel
        int eff = (k - 1) * dilation + 1;
        int outH;
        int padTop;
        if (mode == ConvolutionMode.Same) {
            outH = (h + stride - 1) / stride;
            padTop = Math.max(0, ((outH - 1) * stride + eff - h) / 2);
        } else {
            outH = (h + 2 * pad - eff) / stride + 1;
            padTop = pad;
        }
        double[][][][] expected = new double[n][o][outH][outH];
        for (int e = 0; e < n; e++) {
            for (int oc = 0; oc < o; oc++) {
                for (int i = 0; i < outH; i++) {
                    for (int j = 0; j < outH; j++) {
                        long acc = 0;
                        int firstInput = depthMultiplier == 0 ? 0 : oc / depthMultiplier;
                        for (int ic = firstInput; ic < firstInput + kernelInputs; ic++) {
                            for (int kh = 0; kh < k; kh++) {
                                for (int kw = 0; kw < k; kw++) {
                                    int r = i * stride - padTop + kh * dilation;
                                    int q = j * stride - padTop + kw * dilation;
                                    if (r < 0 || q < 0 || r >= h || q >= h) {
                                        continue;
                                    }
                                    acc += (long) xc[((e * c + ic) * h + r) * h + q] * wc[((kh * k + kw) * kernelInputs + ic - firstInput) * o + oc];
                                }
                            }
                        }
                        expected[e][oc][i][j] = acc * p.inputStep() * sw[perChannel ? oc : 0] + b[oc];
                    }
                }
            }
        }
        assertMatches(Nd4j.createFromArray(expected), out, dt);
    }

    @Test
    void integerParamsNeedQuantizedWeightsAndAnInitializedInputStep() {
        MultiLayerNetwork net = single(new LsqDense.Builder().name("fc").nIn(4).nOut(2).build(), InputType.feedForward(4),
                DataType.DOUBLE);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LsqLayers.integerParams(net, "fc"));
        assertTrue(e.getMessage().contains("'fc'") && e.getMessage().contains("input step"), e.getMessage());
        MultiLayerNetwork weightsOnly = single(new LsqDense.Builder().name("fc").nIn(4).nOut(2).quantizeInputs(false)
                .build(), InputType.feedForward(4), DataType.DOUBLE);
        LsqIntegerParams p = LsqLayers.integerParams(weightsOnly, "fc");
        assertNull(p.inputQuantizer());
        assertTrue(Double.isNaN(p.inputStep()));
        assertEquals(DataType.INT32, p.weightCodes().dataType());
        MultiLayerNetwork off = single(new LsqDense.Builder().name("fc").nIn(4).nOut(2).quantize(false).build(),
                InputType.feedForward(4), DataType.DOUBLE);
        assertThrows(IllegalStateException.class, () -> LsqLayers.integerParams(off, "fc"));
        assertThrows(IllegalArgumentException.class, () -> LsqLayers.integerParams(off, "nope"));
    }

    private static void assertCodesInRange(LsqIntegerParams p, INDArray x) {
        INDArray wc = p.weightCodes();
        assertEquals(DataType.INT32, wc.dataType());
        assertTrue(wc.minNumber().intValue() >= -p.weightQuantizer().range().qn()
                && wc.maxNumber().intValue() <= p.weightQuantizer().range().qp());
        INDArray xc = p.inputCodes(x);
        assertTrue(xc.minNumber().intValue() >= -p.inputQuantizer().range().qn()
                && xc.maxNumber().intValue() <= p.inputQuantizer().range().qp());
        assertTrue(xc.maxNumber().intValue() > 0, "input codes must not be trivially zero");
    }

    private static void assertMatches(INDArray expected, INDArray actual, DataType dt) {
        double scale = Math.max(1, expected.amaxNumber().doubleValue());
        double tol = (dt == DataType.DOUBLE ? 1e-10 : 2e-5) * scale;
        TestNets.assertClose(expected, actual.castTo(DataType.DOUBLE), tol, "layer output vs integer arithmetic");
    }

    private static long[][] toLong2(INDArray a) {
        int[] v = a.dup('c').data().asInt();
        long[][] out = new long[(int) a.size(0)][(int) a.size(1)];
        for (int i = 0; i < out.length; i++) {
            for (int j = 0; j < out[0].length; j++) {
                out[i][j] = v[i * out[0].length + j];
            }
        }
        return out;
    }
}
