package io.github.lsq4j.layers;

import java.util.Locale;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Training-step speed of a 3-conv net (16/32/64 channels, 3x3, the 2nd and 3rd with stride 2, global
 * average pool, softmax) on 28x28x1 at batch 64, Adam, float: stock ConvolutionLayer vs LsqConv2D with
 * quantization off, 4-bit weights, and 4-bit weights and inputs. Not a unit test (no "Test" in the
 * name); run it with
 * {@code mvn -q -o test-compile org.codehaus.mojo:exec-maven-plugin:3.1.0:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.github.lsq4j.layers.LayerStepBenchmark -Dexec.args="10 30 3"}
 * (arguments: warm-up steps, timed steps, repetitions; default 5 20 2).
 */
public final class LayerStepBenchmark {
    private LayerStepBenchmark() {
    }

    enum Kind {
        STOCK, LSQ_OFF, LSQ_W4, LSQ_W4_X4
    }

    private static Layer conv(Kind kind, int nOut, int stride, boolean first) {
        if (kind == Kind.STOCK) {
            return new ConvolutionLayer.Builder().nOut(nOut).kernelSize(3, 3).stride(stride, stride)
                    .convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build();
        }
        return new LsqConv2D.Builder().nOut(nOut).kernelSize(3).stride(stride).convolutionMode(ConvolutionMode.Same)
                .activation(Activation.RELU).bits(4).inputSigned(first)
                .quantizeWeights(kind != Kind.LSQ_OFF).quantizeInputs(kind == Kind.LSQ_W4_X4).build();
    }

    static MultiLayerNetwork net(Kind kind) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                .updater(new Adam(1e-3)).list()
                .layer(conv(kind, 16, 1, true))
                .layer(conv(kind, 32, 2, false))
                .layer(conv(kind, 64, 2, false))
                .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
                .layer(new OutputLayer.Builder().nOut(10).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.convolutional(28, 28, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /**
     * @param args warm-up steps, timed steps, repetitions
     */
    public static void main(String[] args) {
        int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int batch = 64;
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, 1, 28, 28);
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, 10);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % 10, 1);
        }
        StringBuilder report = new StringBuilder(String.format(Locale.ROOT,
                "%nTraining images/s, batch %d, %d timed steps after %d warm-up steps%n", batch, steps, warmup));
        for (int r = 1; r <= reps; r++) {
            for (Kind kind : Kind.values()) {
                MultiLayerNetwork net = net(kind);
                for (int i = 0; i < warmup; i++) {
                    net.fit(x, y);
                }
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    net.fit(x, y);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                report.append(String.format(Locale.ROOT, "rep %d  %-10s %8.1f images/s  (%.1f ms/step)%n", r, kind,
                        steps * batch / seconds, 1000 * seconds / steps));
            }
        }
        // The result is the program's output: a benchmark main, not library code.
        System.out.print(report);
    }
}
