package io.github.lsq4j.samples.spark;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.train.ModelFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.eval.Evaluation;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * An lsq4j network trained on Spark with DL4J's own engine (dl4j-spark 1.0.0-M2 on the 1.0.0-M2.1 core),
 * in local mode: a float network converted to 4-bit LSQ, its input steps calibrated on the driver
 * before training is distributed (so every worker starts from the same steps), then
 * {@link SparkDl4jMultiLayer} with parameter averaging, which averages the step sizes like every other
 * parameter. The data: 8x8 images, the class is the brightest of 4 quadrants.
 *
 * <p>{@code cd samples/spark && mvn -q compile exec:java} (needs the Java 17 flags of this project's
 * {@code .mvn/jvm.config}; Spark on a cluster needs them in {@code spark.driver/executor.extraJavaOptions}).
 */
public final class SparkTraining {
    private SparkTraining() {
    }

    /** @return a float convnet for 1x8x8 images, 4 classes */
    public static MultiLayerNetwork floatNetwork(long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed)
                .updater(new Nesterovs(0.05, 0.9)).weightInit(WeightInit.RELU).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(8).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 8, 1)).build());
        net.init();
        return net;
    }

    /** @return {@code batches} batches of 16 images, each labelled with its brightest quadrant */
    public static List<DataSet> quadrants(int batches, long seed) {
        Nd4j.getRandom().setSeed(seed);
        List<DataSet> data = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 16, 1, 8, 8).muli(0.5);
            INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 4);
            for (int i = 0; i < 16; i++) {
                int q = (int) (Nd4j.getRandom().nextDouble() * 4);
                x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(4 * (q / 2), 4 * (q / 2) + 4),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(4 * (q % 2), 4 * (q % 2) + 4)).addi(0.5);
                y.putScalar(i, q, 1.0);
            }
            data.add(new DataSet(x, y));
        }
        return data;
    }

    /** The float network converted to 4-bit LSQ (8-bit first and last layer), input steps calibrated. */
    public static MultiLayerNetwork calibratedLsq(MultiLayerNetwork fp, DataSet calibration) {
        MultiLayerNetwork lsq = LsqConverter.convert(fp, QuantizationPolicy.paper(4));
        LsqLayers.calibrate(lsq, new SingletonDataSetIterator(calibration));
        return lsq;
    }

    /**
     * Trains on Spark with parameter averaging.
     *
     * @param sc     the Spark context
     * @param net    the network (trained in place on the driver's copy)
     * @param data   the batches, 16 examples each
     * @param epochs epochs
     * @return the trained network
     */
    public static MultiLayerNetwork train(JavaSparkContext sc, MultiLayerNetwork net, List<DataSet> data, int epochs) {
        TrainingMaster<?, ?> master = new ParameterAveragingTrainingMaster.Builder(16).batchSizePerWorker(16)
                .averagingFrequency(2).workerPrefetchNumBatches(0).build();
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, master);
        for (int e = 0; e < epochs; e++) {
            spark.fit(sc.parallelize(data, 2));
        }
        return spark.getNetwork();
    }

    /** @return top-1 accuracy of the network on the batches */
    public static double accuracy(MultiLayerNetwork net, List<DataSet> data) {
        Evaluation eval = new Evaluation(4);
        for (DataSet d : data) {
            eval.eval(d.getLabels(), net.output(d.getFeatures()));
        }
        return eval.accuracy();
    }

    /** @return a local Spark context with 2 worker threads */
    public static JavaSparkContext localContext() {
        return new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("lsq4j")
                .set("spark.driver.host", "localhost").set("spark.ui.enabled", "false"));
    }

    /**
     * @param args none
     * @throws IOException if the model cannot be saved
     */
    public static void main(String[] args) throws IOException {
        List<DataSet> train = quadrants(64, 1);
        List<DataSet> test = quadrants(16, 2);
        MultiLayerNetwork fp = floatNetwork(1);
        // a float network trained briefly, so that there is something left to learn on Spark
        fp.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(train.subList(0, 2)));
        MultiLayerNetwork lsq = calibratedLsq(fp, train.get(0));
        System.out.printf("float %.3f, 4-bit LSQ before Spark %.3f%n", accuracy(fp, test), accuracy(lsq, test));
        try (JavaSparkContext sc = localContext()) {
            lsq = train(sc, lsq, train, 3);
        }
        System.out.printf("4-bit LSQ after 3 epochs on Spark (local[2]): %.3f%n", accuracy(lsq, test));
        ModelFiles.save(lsq, Path.of("lsq4j-spark.zip"));
    }
}
