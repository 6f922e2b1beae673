package io.github.lsq4j.samples.spark;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.QuantizedLayer;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.ImageClassificationIterator;
import io.github.lsq4j.samples.data.LabeledImages;
import io.github.lsq4j.samples.fashion.SmallResNet;
import io.github.lsq4j.train.BatchNormStatistics;
import io.github.lsq4j.train.FineTuner;
import io.github.lsq4j.train.LsqRecipe;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.residual.ResidualClippingPostProcessor;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.AdaptiveThresholdAlgorithm;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.FixedThresholdAlgorithm;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.repartitioner.NoOpRepartitioner;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

/**
 * The demo's 4-bit LSQ ResNet-8 on Fashion-MNIST trained on Spark with gradient sharing
 * ({@link SharedTrainingMaster}: each worker sends only the entries of its update above a threshold, and
 * keeps the rest as a residual for later), compared with one worker and with parameter averaging on the
 * same batches and schedule. The concern: an LSQ step's gradient is scaled by {@code 1/sqrt(N * Qp)}, so
 * its update is small next to the weights'; below the threshold, it would wait in the residual while the
 * weights move. The sample measures it: each run prints its test top-1, its training images/s, and how
 * far each layer's weight and input steps moved. The fix: the step parameters in units of
 * {@link #STEP_UNIT} ({@link QuantizationPolicy.Builder#stepUnit}), so that their updates are as large as
 * the weights' for the same steps, with a fixed threshold of {@link #LSQ_THRESHOLD}.
 *
 * <p>Spark local mode, 2 workers, in one JVM: the driver is the parameter server's controller and Aeron
 * moves the updates over 127.0.0.1. {@code cd samples/spark && mvn -q compile exec:java
 * -Dexec.mainClass=io.github.lsq4j.samples.spark.GradientSharingTraining -Dexec.args="8000 one gs --seed 2"}
 * (arguments: training images, then the runs: {@code one}, {@code pa}, {@code gs} with
 * {@link #lsqThreshold()}, {@code gs-default} with {@link #defaultThreshold()}, {@code gs:T} with a fixed
 * threshold {@code T}, e.g. {@code gs:1e-4}; {@code --seed N} anywhere after the image count seeds the
 * batches' shuffle and augmentation and the weight initialization, default 1; {@code --step-unit U} sets the
 * step unit of every run, default {@link #STEP_UNIT}, 1 for steps stored as themselves). Make at most one
 * gradient-sharing run per JVM: a second one in the same JVM reuses the first one's parameter-server
 * state (DL4J keeps its training wrapper in a singleton) and trains wrongly.
 */
public final class GradientSharingTraining {
    /** Examples per batch (per worker on Spark), as in the demo. */
    public static final int BATCH = 64;
    /** Spark workers: local[2], one per core here. */
    public static final int WORKERS = 2;
    /** The UDP port of the parameter server (Aeron), on 127.0.0.1. */
    public static final int PORT = 40123;
    /** The update threshold for LSQ networks, see {@link #lsqThreshold()}. */
    public static final double LSQ_THRESHOLD = 1e-3;
    /**
     * The unit of the step parameters for gradient sharing: each holds {@code 256 s}, so that its updates are 256
     * times larger and pass {@link #LSQ_THRESHOLD} as the weights' do. A power of two, so that training on
     * one worker is bit-identical to unit 1.
     */
    public static final double STEP_UNIT = 1.0 / 256;
    private static final int EVAL_BATCH = 500;

    private GradientSharingTraining() {
    }

    /** How a run trains. */
    public enum Engine {
        /** Plain {@code fit} in this JVM, one worker. */
        ONE_WORKER,
        /** Spark, {@link ParameterAveragingTrainingMaster}. */
        PARAMETER_AVERAGING,
        /** Spark, {@link SharedTrainingMaster} (threshold-encoded gradient sharing). */
        GRADIENT_SHARING
    }

    /**
     * One training run.
     *
     * @param engine          how it trained
     * @param accuracy        test top-1 after training
     * @param imagesPerSecond training throughput (Spark's own overhead included)
     * @param stepChanges     per LSQ layer: {relative change of its weight step, of its input step},
     *                        {@code |s_after - s_before| / s_before}, averaged over the elements of a step
     */
    public record Run(Engine engine, double accuracy, double imagesPerSecond, Map<String, double[]> stepChanges) {
        @Override
        public String toString() {
            StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%s: test top-1 %.2f %%, %.0f images/s%n",
                    engine, 100 * accuracy, imagesPerSecond));
            stepChanges.forEach((layer, c) -> s.append(String.format(Locale.ROOT,
                    "  %-10s weight step %9.5f %%, input step %9.5f %%%n", layer, 100 * c[0], 100 * c[1])));
            return s.toString();
        }
    }

    /**
     * The training batches: {@code images} augmented, shuffled training images in batches of {@link #BATCH},
     * drawn once, so that every run sees the same ones.
     *
     * @param train  the training split
     * @param images how many
     * @param seed   shuffling and augmentation seed
     * @return the batches
     */
    public static List<DataSet> batches(LabeledImages train, int images, long seed) {
        ImageClassificationIterator it = ImageClassificationIterator.builder(train, BATCH)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).augment(2, true).shuffle(seed).limit(images).build();
        List<DataSet> batches = new ArrayList<>();
        while (it.hasNext()) {
            batches.add(it.next());
        }
        return batches;
    }

    /**
     * The start every run shares: the demo's ResNet-8 trained in full precision for one epoch on the batches,
     * converted to 4-bit LSQ (8-bit first and last layer), its input steps calibrated on the first batch, on
     * the driver, so that every worker starts from the same steps.
     *
     * @param batches  the training batches
     * @param seed     the weight-initialization seed
     * @param stepUnit the unit of the step parameters ({@link QuantizationPolicy.Builder#stepUnit})
     * @return the calibrated LSQ network
     */
    public static ComputationGraph calibratedLsq(List<DataSet> batches, long seed, double stepUnit) {
        ComputationGraph fp = LsqRecipe.fullPrecision().applyTo(SmallResNet.build(8, seed), batches.size());
        FineTuner.builder(fp, new ExistingDataSetIterator(batches)).progressBar(false).build().fit();
        ComputationGraph lsq = LsqConverter.convert(fp, QuantizationPolicy.builder(4).stepUnit(stepUnit).build());
        LsqLayers.calibrate(lsq, new ExistingDataSetIterator(batches.subList(0, 1)), 1);
        return lsq;
    }

    /**
     * Gradient sharing set up as DL4J documents it for Spark: the given threshold algorithm, residuals clipped
     * to 5 thresholds every 5 iterations, {@link #WORKERS} workers in this JVM, the controller on 127.0.0.1
     * (local mode).
     *
     * @param threshold the threshold algorithm: {@link #lsqThreshold()} for LSQ networks
     * @return the training master
     */
    public static SharedTrainingMaster gradientSharing(ThresholdAlgorithm threshold) {
        VoidConfiguration voidConf = VoidConfiguration.builder().unicastPort(PORT).controllerAddress("127.0.0.1")
                .networkMask("127.0.0.0/8").build();
        return new SharedTrainingMaster.Builder(voidConf, WORKERS, threshold, BATCH).batchSizePerWorker(BATCH)
                .workersPerNode(WORKERS).residualPostProcessor(new ResidualClippingPostProcessor(5, 5))
                // one partition per worker, trained from memory: no repartitioning into a round per batch, no
                // export of the batches to files first
                .repartitioner(new NoOpRepartitioner()).rddTrainingApproach(RDDTrainingApproach.Direct)
                .collectTrainingStats(false).build();
    }

    /**
     * DL4J's documented setting, the adaptive threshold starting at 1e-3. With steps stored as themselves (unit
     * 1) it freezes every LSQ step on the quick schedule: it settles near 2e-3, where about 1 % of the entries
     * are sent, and a step's whole movement over the run (a few 1e-4 at most) never fills one quantum of its
     * residual. With {@link #STEP_UNIT} every step moves.
     *
     * @return {@code new AdaptiveThresholdAlgorithm(1e-3)}
     */
    public static ThresholdAlgorithm defaultThreshold() {
        return new AdaptiveThresholdAlgorithm(1e-3);
    }

    /**
     * The threshold to train LSQ networks with, together with {@link #STEP_UNIT}: fixed at
     * {@value #LSQ_THRESHOLD}. Each encoded entry is applied as plus or minus one threshold, so a parameter
     * moves at most one threshold per message and the rest waits in the residual: a threshold small enough
     * for steps stored as themselves (1e-5) throttles the weights, and costs accuracy. With the step unit the
     * threshold can be chosen for the weights. On the quick schedule, over seeds 1 to 3, every step moved and
     * top-1 ended within 0.4 points of one worker (see {@code samples/results/spark-gradient-sharing}).
     *
     * @return {@code new FixedThresholdAlgorithm(1e-3)}
     */
    public static ThresholdAlgorithm lsqThreshold() {
        return new FixedThresholdAlgorithm(LSQ_THRESHOLD);
    }

    /**
     * Parameter averaging, every 4 iterations of each worker, updater state averaged too.
     *
     * @return the training master
     */
    public static ParameterAveragingTrainingMaster parameterAveraging() {
        return new ParameterAveragingTrainingMaster.Builder(BATCH).batchSizePerWorker(BATCH).averagingFrequency(4)
                .workerPrefetchNumBatches(0).build();
    }

    /**
     * Fine-tunes a copy of {@code start} for one epoch over {@code batches} with the paper's 4-bit recipe, its
     * cosine schedule spread over the iterations each worker runs, and evaluates it ({@link #accuracy}).
     *
     * @param sc      the Spark context (unused for {@link Engine#ONE_WORKER})
     * @param start   the calibrated LSQ network (not changed)
     * @param master  the Spark training master ({@code null} for {@link Engine#ONE_WORKER})
     * @param engine  which engine {@code master} is
     * @param batches the training batches
     * @param test    the test split
     * @return the run's accuracy, throughput and step changes
     */
    public static Run fineTune(JavaSparkContext sc, ComputationGraph start, TrainingMaster<?, ?> master, Engine engine,
                               List<DataSet> batches, LabeledImages test) {
        int workers = engine == Engine.ONE_WORKER ? 1 : WORKERS;
        ComputationGraph net = LsqRecipe.paper(start).applyTo(start, (batches.size() + workers - 1) / workers);
        Map<String, double[][]> before = stepValues(net);
        long begin = System.nanoTime();
        if (engine == Engine.ONE_WORKER) {
            net.fit(new ExistingDataSetIterator(batches));
        } else {
            net = new SparkComputationGraph(sc, net, master).fit(sc.parallelize(batches, WORKERS));
        }
        double seconds = (System.nanoTime() - begin) / 1e9;
        Map<String, double[]> changes = new LinkedHashMap<>();
        stepValues(net).forEach((layer, after) -> changes.put(layer, new double[] {
            relativeChange(before.get(layer)[0], after[0]), relativeChange(before.get(layer)[1], after[1])}));
        return new Run(engine, accuracy(net, batches, test), batches.size() * (double) BATCH / seconds, changes);
    }

    /**
     * Re-estimates the network's batch-norm statistics on the training batches (parameter averaging and
     * gradient sharing move the moving averages as they move parameters, and after so short a run they lag
     * the weights, see {@link BatchNormStatistics}), then evaluates it.
     *
     * @param net     the network (its batch-norm statistics are replaced)
     * @param batches the training batches
     * @param test    the test split
     * @return test top-1
     */
    public static double accuracy(ComputationGraph net, List<DataSet> batches, LabeledImages test) {
        BatchNormStatistics.reestimate(net, new ExistingDataSetIterator(batches),
                FineTuner.Builder.DEFAULT_BATCH_NORM_BATCHES);
        return FineTuner.accuracy(net, ImageClassificationIterator.builder(test, EVAL_BATCH)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).build());
    }

    /**
     * @param net an LSQ network (MultiLayerNetwork or ComputationGraph)
     * @return per LSQ layer, its steps: {weight step(s), input step(s)}, copied
     */
    public static Map<String, double[][]> stepValues(Model net) {
        Map<String, double[][]> steps = new LinkedHashMap<>();
        for (QuantizedLayer l : LsqLayers.lsqLayers(net)) {
            steps.put(l.name(), new double[][] {values(l, LsqLayerConfig.WEIGHT_STEP_KEY),
                values(l, LsqLayerConfig.INPUT_STEP_KEY)});
        }
        return steps;
    }

    private static double[] values(QuantizedLayer layer, String key) {
        return layer.stepValues(key).data().asDouble();
    }

    /** @return {@code |after - before| / before}, averaged over the elements (per-channel steps count as one) */
    private static double relativeChange(double[] before, double[] after) {
        double sum = 0;
        for (int i = 0; i < before.length; i++) {
            sum += Math.abs(after[i] - before[i]) / before[i];
        }
        return sum / before.length;
    }

    /**
     * @param args training images (default 8000), then the runs to make: {@code one}, {@code pa}, {@code gs},
     *             {@code gs-default} or {@code gs:T} (fixed threshold {@code T}); default {@code one pa gs};
     *             {@code --seed N} among them sets the seed of the batches and of the weight initialization
     *             (default 1)
     */
    public static void main(String[] args) {
        int images = args.length > 0 ? Integer.parseInt(args[0]) : 8000;
        long seed = 1;
        double stepUnit = STEP_UNIT;
        List<String> runs = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--seed")) {
                seed = Long.parseLong(args[++i]);
            } else if (args[i].equals("--step-unit")) {
                stepUnit = Double.parseDouble(args[++i]);
            } else {
                runs.add(args[i]);
            }
        }
        if (runs.isEmpty()) {
            runs = List.of("one", "pa", "gs");
        }
        FashionMnist.Splits data = FashionMnist.loadOrExit(FashionMnist.DEFAULT_DIR);
        List<DataSet> batches = batches(data.train(), images, seed);
        ComputationGraph start = calibratedLsq(batches, seed, stepUnit);
        System.out.printf(Locale.ROOT, "seed %d, %d images, step unit %s%n", seed, images, stepUnit);
        System.out.printf(Locale.ROOT, "start (4-bit, calibrated, not fine-tuned): test top-1 %.2f %%%n",
                100 * accuracy(start.clone(), batches, data.test()));
        try (JavaSparkContext sc = SparkTraining.localContext()) {
            for (String run : runs) {
                Run r = switch (run) {
                    case "one" -> fineTune(sc, start, null, Engine.ONE_WORKER, batches, data.test());
                    case "pa" -> fineTune(sc, start, parameterAveraging(), Engine.PARAMETER_AVERAGING, batches,
                            data.test());
                    case "gs-default" -> fineTune(sc, start, gradientSharing(defaultThreshold()),
                            Engine.GRADIENT_SHARING, batches, data.test());
                    case "gs" -> fineTune(sc, start, gradientSharing(lsqThreshold()), Engine.GRADIENT_SHARING,
                            batches, data.test());
                    default -> {
                        if (!run.startsWith("gs:")) {
                            throw new IllegalArgumentException(
                                    "runs are one, pa, gs, gs-default or gs:THRESHOLD, got " + run);
                        }
                        yield fineTune(sc, start, gradientSharing(new FixedThresholdAlgorithm(
                                Double.parseDouble(run.substring(3)))), Engine.GRADIENT_SHARING, batches, data.test());
                    }
                };
                long weightMoved = r.stepChanges().values().stream().filter(c -> c[0] > 0).count();
                long inputMoved = r.stepChanges().values().stream().filter(c -> c[1] > 0).count();
                System.out.print(run + " " + r);
                System.out.printf(Locale.ROOT, "  steps moved: %d of %d weight, %d of %d input%n", weightMoved,
                        r.stepChanges().size(), inputMoved, r.stepChanges().size());
            }
        }
    }
}
