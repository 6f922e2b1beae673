package io.github.lsq4j.samples.depthwise;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.samples.FashionDataOption;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.ImageClassificationIterator;
import io.github.lsq4j.train.FineTuner;
import io.github.lsq4j.train.LsqRecipe;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Depthwise convolutions at low precision: a small MobileNet-style network (depthwise 3x3 and pointwise
 * 1x1 blocks, one of them a {@code SeparableConvolution2D}) is trained in float on Fashion-MNIST, then
 * converted and fine-tuned with the paper's recipe at each bit width twice: with one weight step per
 * depthwise channel (the converter's default) and with one step per depthwise layer. It prints one line
 * per run, the test top-1 at the end, which README's "Depthwise and separable convolutions" reports.
 *
 * <p>{@code mvn -q exec:java -Dexec.mainClass=io.github.lsq4j.samples.depthwise.DepthwiseStudy}
 */
@Command(name = "DepthwiseStudy", description = "Depthwise layers at 4, 3 and 2 bits: per-channel against "
        + "per-tensor weight steps, on a small MobileNet-style network and Fashion-MNIST.")
public final class DepthwiseStudy {
    @Mixin
    HelpOption help;

    @Mixin
    FashionDataOption data;

    @Option(names = "--examples", description = "Training images per run, float and each LSQ run "
            + "(default: ${DEFAULT-VALUE}).")
    int examples = 30_000;

    @Option(names = "--bits", split = ",", description = "Bit widths (default: ${DEFAULT-VALUE}).")
    List<Integer> bits = List.of(4, 3, 2);

    private static final int BATCH = 128;

    private DepthwiseStudy() {
    }

    /**
     * @param args {@code [--data DIR] [--examples N] [--bits 4,3,2]}
     */
    public static void main(String[] args) {
        DepthwiseStudy study = SampleCli.parse(new DepthwiseStudy(), args);
        FashionMnist.Splits splits = study.data.loadOrExit();
        ImageClassificationIterator train = ImageClassificationIterator.builder(splits.train(), BATCH)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).shuffle(1).limit(study.examples).build();
        ImageClassificationIterator test = ImageClassificationIterator.builder(splits.test(), 500)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).build();

        MultiLayerNetwork fp = network();
        double fpTop1 = fit(fp, train, test);
        System.out.printf("full precision: test top-1 %.2f %%%n", 100 * fpTop1);
        for (int b : study.bits) {
            for (boolean perChannel : new boolean[] {true, false}) {
                QuantizationPolicy policy = QuantizationPolicy.builder(b).perChannelDepthwise(perChannel).build();
                MultiLayerNetwork lsq = LsqConverter.convert(fp, policy);
                train.reset();
                LsqLayers.calibrate(lsq, train);
                lsq = LsqRecipe.paper(policy).applyTo(lsq, train.batchesPerEpoch());
                double top1 = fit(lsq, train, test);
                System.out.printf("%d bits, depthwise weight steps %s: test top-1 %.2f %%%n", b,
                        perChannel ? "per channel" : "per tensor", 100 * top1);
            }
        }
    }

    private static double fit(MultiLayerNetwork net, ImageClassificationIterator train,
                              ImageClassificationIterator test) {
        train.reset();
        return FineTuner.builder(net, train).test(test).epochs(1).examplesPerEpoch(train.numExamples()).build()
                .fit().get(0).testAccuracy();
    }

    /** 28x28x1: conv 3x3 (32), then depthwise + pointwise blocks to 64, 128 (stride 2) and 128, pooled. */
    static MultiLayerNetwork network() {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(42).updater(new Adam(2e-3))
                .weightInit(WeightInit.RELU).convolutionMode(ConvolutionMode.Same).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(32).activation(Activation.IDENTITY).build())
                .layer(new BatchNormalization.Builder().build()).layer(new ActivationLayer(Activation.RELU));
        int[][] blocks = {{64, 1}, {128, 2}};
        for (int[] block : blocks) {
            b.layer(new DepthwiseConvolution2D.Builder(3, 3).stride(block[1], block[1]).depthMultiplier(1)
                            .activation(Activation.IDENTITY).build())
                    .layer(new BatchNormalization.Builder().build()).layer(new ActivationLayer(Activation.RELU))
                    .layer(new ConvolutionLayer.Builder(1, 1).nOut(block[0]).activation(Activation.IDENTITY).build())
                    .layer(new BatchNormalization.Builder().build()).layer(new ActivationLayer(Activation.RELU));
        }
        b.layer(new SeparableConvolution2D.Builder(3, 3).stride(2, 2).nOut(128).activation(Activation.IDENTITY)
                        .build())
                .layer(new BatchNormalization.Builder().build()).layer(new ActivationLayer(Activation.RELU))
                .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(28, 28, 1));
        MultiLayerNetwork net = new MultiLayerNetwork(b.build());
        net.init();
        return net;
    }
}
