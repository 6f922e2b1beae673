package io.github.lsq4j.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.L2NormalizeVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.ShiftVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.CenterLossOutputLayer;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.SpaceToDepthLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.deeplearning4j.nn.conf.layers.objdetect.Yolo2OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The layer and vertex kinds the zoo's vision networks use besides convolutions, dense layers and batch
 * norm, each after a convolution on 4x8x8 input, exported and run in ONNX Runtime at every optimization
 * level: the same outputs as DL4J.
 */
class ZooLayerKindsExportTest {
    @TempDir
    Path dir;

    static Stream<Arguments> kinds() {
        return Stream.of(
                Arguments.of("Upsampling2D", new Upsampling2D.Builder(2).build()),
                Arguments.of("Cropping2D", new Cropping2D(1, 0, 2, 1)),
                Arguments.of("SpaceToDepthLayer", new SpaceToDepthLayer.Builder(2, SpaceToDepthLayer.DataFormat.NCHW).build()),
                Arguments.of("LocalResponseNormalization", new LocalResponseNormalization.Builder().n(5).k(2)
                        .alpha(0.1).beta(0.75).build()),
                Arguments.of("Deconvolution2D, Truncate", new Deconvolution2D.Builder(3, 3).stride(2, 2).padding(1, 1)
                        .nOut(5).activation(Activation.TANH).convolutionMode(ConvolutionMode.Truncate).build()),
                Arguments.of("Deconvolution2D, Same", new Deconvolution2D.Builder(2, 2).stride(2, 2).nOut(3)
                        .convolutionMode(ConvolutionMode.Same).build()),
                Arguments.of("ScaleVertex", new ScaleVertex(0.5)),
                Arguments.of("ShiftVertex", new ShiftVertex(-1.5)),
                Arguments.of("L2NormalizeVertex, every axis", new L2NormalizeVertex()),
                Arguments.of("L2NormalizeVertex, channels", new L2NormalizeVertex(new int[] {1}, 1e-8)),
                Arguments.of("SeparableConvolution2D", new SeparableConvolution2D.Builder(3, 3).depthMultiplier(2).nOut(5)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build()),
                Arguments.of("DepthwiseConvolution2D", new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2)
                        .stride(2, 2).padding(1, 1).convolutionMode(ConvolutionMode.Truncate).build()),
                Arguments.of("CnnLossLayer", new CnnLossLayer.Builder(LossFunctions.LossFunction.XENT)
                        .activation(Activation.SIGMOID).build()),
                Arguments.of("Yolo2OutputLayer, 2 boxes of 3 classes", new Yolo2OutputLayer.Builder()
                        .boundingBoxPriors(Nd4j.createFromArray(new double[][] {{1.0, 1.5}, {2.5, 0.5}}).castTo(DataType.FLOAT))
                        .build()),
                Arguments.of("CenterLossOutputLayer, after global pooling", new CenterLossOutputLayer.Builder().nOut(3)
                        .activation(Activation.SOFTMAX).build()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void runsInOnnxRuntimeAsInDl4j(String kind, Object layerOrVertex) throws Exception {
        Nd4j.getRandom().setSeed(7);
        ComputationGraphConfiguration.GraphBuilder b = new NeuralNetConfiguration.Builder().seed(7)
                .dataType(DataType.FLOAT).graphBuilder().addInputs("in")
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(6).activation(Activation.IDENTITY)
                        .convolutionMode(ConvolutionMode.Same).build(), "in");
        if (layerOrVertex instanceof CenterLossOutputLayer l) {
            b.addLayer("pool", new GlobalPoolingLayer(PoolingType.AVG), "conv").addLayer("kind", l, "pool");
        } else if (layerOrVertex instanceof Yolo2OutputLayer l) {
            b.addLayer("boxes", new ConvolutionLayer.Builder(1, 1).nOut(16).activation(Activation.IDENTITY).build(), "conv")
                    .addLayer("kind", l, "boxes");
        } else if (layerOrVertex instanceof Layer l) {
            b.addLayer("kind", l, "conv");
        } else {
            b.addVertex("kind", (GraphVertex) layerOrVertex, "conv");
        }
        ComputationGraph net = new ComputationGraph(b.setOutputs("kind").setInputTypes(InputType.convolutional(8, 8, 4))
                .build());
        net.init();
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 4, 8, 8);
        INDArray expected = net.outputSingle(x);
        Path file = dir.resolve("kind.onnx");
        OnnxExporter.export(net, file, 4, 8, 8);
        for (ai.onnxruntime.OrtSession.SessionOptions.OptLevel level
                : ai.onnxruntime.OrtSession.SessionOptions.OptLevel.values()) {
            try (OnnxRuntimeRunner ort = new OnnxRuntimeRunner(file, level)) {
                INDArray actual = ort.run("in", x);
                assertArrayEquals(expected.shape(), actual.shape(), kind + ": shape");
                double maxDiff = expected.sub(actual).amaxNumber().doubleValue();
                assertTrue(maxDiff < 1e-5, kind + ", " + level + ": max |difference| " + maxDiff);
            }
        }
    }
}
