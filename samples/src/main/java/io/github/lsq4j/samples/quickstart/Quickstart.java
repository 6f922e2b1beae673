package io.github.lsq4j.samples.quickstart;

import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqDense;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.LsqOutputLayer;
import io.github.lsq4j.samples.FashionDataOption;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.ImageClassificationIterator;
import io.github.lsq4j.samples.data.LabeledImages;
import io.github.lsq4j.train.FineTuner;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Quick start: LSQ layers in your own MultiLayerNetwork. A small convnet whose convolutions and hidden
 * dense layer quantize their weights and inputs to 4 bits (the first layer's input, the normalized
 * image, is signed; inputs after a ReLU are unsigned) trains on 10,000 Fashion-MNIST images.
 *
 * <p>{@code mvn -q exec:java -Dexec.mainClass=io.github.lsq4j.samples.quickstart.Quickstart}
 */
@Command(name = "Quickstart", description = "LSQ layers in your own network: a 4-bit convnet trained on 10,000 "
        + "Fashion-MNIST images.")
public final class Quickstart {
    @Mixin
    HelpOption help;

    @Mixin
    FashionDataOption data;

    private Quickstart() {
    }

    /**
     * @param args {@code [--data DIR]}, the folder with the Fashion-MNIST IDX files
     */
    public static void main(String[] args) {
        FashionDataOption dataOption = SampleCli.parse(new Quickstart(), args).data;
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42).updater(new Adam(2e-3)).weightInit(WeightInit.RELU)
                .list()
                .layer(new LsqConv2D.Builder().nOut(16).kernelSize(3).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).bits(4).inputSigned(true).build())
                .layer(new SubsamplingLayer.Builder().kernelSize(2, 2).stride(2, 2).build())
                .layer(new LsqConv2D.Builder().nOut(32).kernelSize(3).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).bits(4).inputSigned(false).build())
                .layer(new SubsamplingLayer.Builder().kernelSize(2, 2).stride(2, 2).build())
                .layer(new LsqDense.Builder().nOut(64).activation(Activation.RELU).bits(4).inputSigned(false).build())
                .layer(new LsqOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).bits(8).inputSigned(false).build())
                .setInputType(InputType.convolutional(28, 28, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();

        FashionMnist.Splits data = dataOption.loadOrExit();
        LabeledImages train = data.train();
        LabeledImages test = data.test();
        ImageClassificationIterator trainData = ImageClassificationIterator.builder(train, 64)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).shuffle(1).limit(10_000).build();
        ImageClassificationIterator testData = ImageClassificationIterator.builder(test, 500)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).build();
        FineTuner.builder(net, trainData).test(testData).epochs(2).examplesPerEpoch(trainData.numExamples())
                .afterEpoch(e -> System.out.printf("epoch %d: test top-1 %.2f %%%n", e.epoch(), 100 * e.testAccuracy()))
                .build().fit();

        LsqLayers.lsqLayers(net).forEach(layer -> System.out.printf("%s: weight step %s, input step %.4f%n",
                layer.name(), layer.integerParams().weightSteps(), layer.integerParams().inputStep()));
    }
}
