package io.github.lsq4j.samples.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.export.OnnxExporter;
import io.github.lsq4j.export.OnnxFormat;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.QuantizedLayer;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.ImageClassificationIterator;
import io.github.lsq4j.samples.data.LabeledImages;
import io.github.lsq4j.samples.fashion.SmallResNet;
import io.github.lsq4j.train.FineTuner;
import io.github.lsq4j.train.LsqRecipe;
import io.github.lsq4j.train.ModelFiles;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import onnx.Onnx;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Convert, fine-tune, export to ONNX, and run in ONNX Runtime: the deployment path of an lsq4j network,
 * measured. For the demo's ResNet-8 on Fashion-MNIST: train in float (or reuse a trained one), then for
 * each bit width convert, calibrate, fine-tune briefly, export, and compare ONNX Runtime's predictions
 * with lsq4j's on the test set; count the activations whose code the runtime's rounding (half to even)
 * changes; and optionally time inference.
 */
public final class OnnxDeployment {
    private static final int BATCH = 64;
    private static final int EVAL_BATCH = 500;

    private OnnxDeployment() {
    }

    /**
     * The comparison of one exported bit width with lsq4j on the test set.
     *
     * @param bits               the target bit width
     * @param format             the form of the export
     * @param lsq4jTop1          lsq4j's test accuracy
     * @param onnxTop1           ONNX Runtime's test accuracy
     * @param agreement          the fraction of test images on which both predict the same class (every
     *                           graph optimization on)
     * @param lowestAgreement    the lowest such fraction over ONNX Runtime's optimization levels
     * @param maxOutputDifference the largest difference of an output probability
     * @param changedByRounding  quantized layer inputs whose code differs between lsq4j's rounding and
     *                           QuantizeLinear's (half to even, of {@code x / s})
     * @param quantizedInputs    all quantized layer inputs seen
     * @param onnxBytes          the size of the ONNX file
     * @param zipBytes           the size of the DL4J model file of the same network
     * @param file               the ONNX file
     */
    public record Comparison(int bits, OnnxFormat format, double lsq4jTop1, double onnxTop1, double agreement,
                             double lowestAgreement, double maxOutputDifference, long changedByRounding,
                             long quantizedInputs, long onnxBytes, long zipBytes, Path file) {
    }

    /**
     * Trains a float ResNet-8 for one epoch on {@code trainImages} images.
     *
     * @return the network
     */
    public static ComputationGraph trainFloat(LabeledImages train, int trainImages, long seed) {
        return trainFloat(8, train, trainImages, seed);
    }

    /**
     * Trains a float ResNet of the given depth for one epoch on {@code trainImages} images.
     *
     * @param depth 8 or 20 ({@link SmallResNet})
     * @return the network
     */
    public static ComputationGraph trainFloat(int depth, LabeledImages train, int trainImages, long seed) {
        ImageClassificationIterator data = trainIterator(train, trainImages, seed);
        ComputationGraph fp = LsqRecipe.fullPrecision().applyTo(SmallResNet.build(depth, seed), batches(trainImages));
        FineTuner.builder(fp, data).epochs(1).examplesPerEpoch(trainImages).build().fit();
        return fp;
    }

    /**
     * Converts a float network at {@code bits}, calibrates its input steps, fine-tunes it for one epoch
     * on {@code trainImages} images with the paper's recipe.
     *
     * @return the LSQ network
     */
    public static ComputationGraph fineTune(ComputationGraph fp, int bits, LabeledImages train, int trainImages,
                                            long seed) {
        return fineTune(fp, QuantizationPolicy.paper(bits), train, trainImages, seed);
    }

    /**
     * Converts a float network with {@code policy} (e.g. {@code QuantizationPolicy.builder(bits)
     * .perChannelWeights(true).build()} for one weight step per output channel), calibrates its input steps,
     * fine-tunes it for one epoch on {@code trainImages} images with the paper's recipe.
     *
     * @return the LSQ network
     */
    public static ComputationGraph fineTune(ComputationGraph fp, QuantizationPolicy policy, LabeledImages train,
                                            int trainImages, long seed) {
        ComputationGraph lsq = LsqConverter.convert(fp, policy);
        LsqLayers.calibrate(lsq, trainIterator(train, BATCH, seed), 1);
        lsq = LsqRecipe.paper(policy).applyTo(lsq, batches(trainImages));
        FineTuner.builder(lsq, trainIterator(train, trainImages, seed)).epochs(1).examplesPerEpoch(trainImages)
                .build().fit();
        return lsq;
    }

    /**
     * Exports the network and compares ONNX Runtime with lsq4j on the test set: predictions, outputs and
     * codes with every graph optimization on, and the predictions at each other optimization level.
     *
     * @param lsq    the fine-tuned network
     * @param bits   its target bit width
     * @param format the form of the export
     * @param test   the test images
     * @param dir    where the ONNX and DL4J files go
     * @return the comparison
     */
    public static Comparison exportAndCompare(ComputationGraph lsq, int bits, OnnxFormat format, LabeledImages test,
                                              Path dir) throws IOException, OrtException {
        String base = "resnet-" + bits + "bit";
        Path onnx = dir.resolve(base + "-" + format.name().toLowerCase(java.util.Locale.ROOT) + ".onnx");
        Path zip = dir.resolve(base + ".zip");
        OnnxExporter.export(lsq, onnx, format, 1, 28, 28);
        ModelFiles.save(lsq, zip);
        long agree = 0;
        long lsq4jCorrect = 0;
        long onnxCorrect = 0;
        long changed = 0;
        long quantized = 0;
        double maxDiff = 0;
        List<INDArray> lsq4jClasses = new ArrayList<>();
        ImageClassificationIterator data = testIterator(test);
        try (OnnxModel model = new OnnxModel(onnx, 2)) {
            while (data.hasNext()) {
                DataSet batch = data.next();
                // One forward pass gives both lsq4j's output and the quantized layers' inputs.
                Map<String, INDArray> activations = lsq.feedForward(batch.getFeatures(), false);
                INDArray expected = activations.get(lsq.getConfiguration().getNetworkOutputs().get(0));
                INDArray actual = model.run(batch.getFeatures());
                INDArray labels = batch.getLabels().argMax(1);
                INDArray expectedClass = expected.argMax(1);
                lsq4jClasses.add(expectedClass);
                INDArray actualClass = actual.argMax(1);
                agree += count(expectedClass.eq(actualClass));
                lsq4jCorrect += count(expectedClass.eq(labels));
                onnxCorrect += count(actualClass.eq(labels));
                maxDiff = Math.max(maxDiff, expected.sub(actual).amaxNumber().doubleValue());
                long[] rounding = roundingChanges(lsq, activations);
                changed += rounding[0];
                quantized += rounding[1];
            }
        }
        double n = test.count();
        double lowestAgreement = agree / n;
        for (OrtSession.SessionOptions.OptLevel level : OrtSession.SessionOptions.OptLevel.values()) {
            if (level != OrtSession.SessionOptions.OptLevel.ALL_OPT) {
                lowestAgreement = Math.min(lowestAgreement, agreement(lsq4jClasses, onnx, level, test));
            }
        }
        return new Comparison(bits, format, lsq4jCorrect / n, onnxCorrect / n, agree / n, lowestAgreement, maxDiff,
                changed, quantized, Files.size(onnx), Files.size(zip), onnx);
    }

    /**
     * The fraction of test images on which ONNX Runtime at {@code level} predicts lsq4j's class.
     *
     * @param lsq4jClasses lsq4j's predicted classes, one array per batch of {@link #testIterator}
     */
    private static double agreement(List<INDArray> lsq4jClasses, Path onnx, OrtSession.SessionOptions.OptLevel level,
                                    LabeledImages test) throws OrtException {
        long agree = 0;
        ImageClassificationIterator data = testIterator(test);
        try (OnnxModel model = new OnnxModel(onnx, 2, level)) {
            for (INDArray expected : lsq4jClasses) {
                agree += count(expected.eq(model.run(data.next().getFeatures()).argMax(1)));
            }
        }
        return agree / (double) test.count();
    }

    /**
     * For every quantized layer input of one batch: how many codes differ between lsq4j's rule
     * ({@code round(clip(x * (1/s)))}, half away from zero) and QuantizeLinear's ({@code x / s}, half to
     * even, saturated), computed in float as each does.
     *
     * @param lsq         the network
     * @param activations every vertex's output for one batch ({@code feedForward}, inference mode)
     * @return {changed, total}
     */
    static long[] roundingChanges(ComputationGraph lsq, Map<String, INDArray> activations) {
        long changed = 0;
        long total = 0;
        for (QuantizedLayer layer : LsqLayers.lsqLayers(lsq)) {
            var quantizer = layer.lsqConf().getInputQuantizer();
            if (quantizer == null) {
                continue;
            }
            String input = lsq.getConfiguration().getVertexInputs().get(layer.name()).get(0);
            float[] x = activations.get(input).castTo(DataType.FLOAT).dup('c').data().asFloat();
            float s = layer.stepValues(LsqLayerConfig.INPUT_STEP_KEY).getFloat(0);
            float reciprocal = 1f / s;
            int qn = quantizer.range().qn();
            int qp = quantizer.range().qp();
            for (float v : x) {
                float lsq4j = (float) Math.copySign(Math.floor(Math.abs(Math.max(-qn, Math.min(qp, v * reciprocal))) + 0.5),
                        v);
                float clipped = Math.max(-qn * s, Math.min(qp * s, v));
                float runtime = (float) Math.max(-qn, Math.min(qp, Math.rint(clipped / s)));
                if (lsq4j != runtime) {
                    changed++;
                }
            }
            total += x.length;
        }
        return new long[] {changed, total};
    }

    /**
     * The operators ONNX Runtime runs after all its graph optimizations, counted, to see whether it
     * turned the QDQ pattern into integer kernels (QLinearConv, ConvInteger, MatMulInteger, ...).
     *
     * @param onnx      the model
     * @param optimized where to write the optimized model
     * @return operator type to count
     */
    public static Map<String, Integer> optimizedOperators(Path onnx, Path optimized) throws OrtException, IOException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setOptimizedModelFilePath(optimized.toString());
            env.createSession(onnx.toString(), options).close();
        }
        Map<String, Integer> ops = new TreeMap<>();
        for (Onnx.NodeProto node : Onnx.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList()) {
            ops.merge(node.getOpType(), 1, Integer::sum);
        }
        return ops;
    }

    static ImageClassificationIterator trainIterator(LabeledImages train, int images, long seed) {
        return ImageClassificationIterator.builder(train, BATCH).normalize(FashionMnist.MEAN, FashionMnist.STD)
                .augment(2, true).shuffle(seed).limit(images).build();
    }

    /**
     * @param test the test images
     * @return them, normalized as for training, in batches of {@value #EVAL_BATCH}
     */
    public static ImageClassificationIterator testIterator(LabeledImages test) {
        return ImageClassificationIterator.builder(test, EVAL_BATCH).normalize(FashionMnist.MEAN, FashionMnist.STD)
                .build();
    }

    private static long batches(int images) {
        return (images + BATCH - 1) / BATCH;
    }

    private static long count(INDArray mask) {
        return mask.castTo(DataType.INT32).sumNumber().longValue();
    }

    /** An ONNX file in an ONNX Runtime session. */
    public static final class OnnxModel implements AutoCloseable {
        private final OrtEnvironment env = OrtEnvironment.getEnvironment();
        private final OrtSession session;
        private final String input;

        /**
         * With every graph optimization on.
         *
         * @param file    the ONNX file
         * @param threads intra-op threads
         */
        public OnnxModel(Path file, int threads) throws OrtException {
            this(file, threads, OrtSession.SessionOptions.OptLevel.ALL_OPT);
        }

        /**
         * @param file    the ONNX file
         * @param threads intra-op threads
         * @param level   ONNX Runtime's graph optimization level
         */
        public OnnxModel(Path file, int threads, OrtSession.SessionOptions.OptLevel level) throws OrtException {
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setOptimizationLevel(level);
                options.setIntraOpNumThreads(threads);
                session = env.createSession(file.toString(), options);
            }
            input = session.getInputNames().iterator().next();
        }

        /**
         * @param x a batch, NCHW
         * @return the first output
         */
        public INDArray run(INDArray x) throws OrtException {
            float[] data = x.castTo(DataType.FLOAT).dup('c').data().asFloat();
            try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), x.shape());
                 OrtSession.Result result = session.run(Map.of(input, in))) {
                OnnxTensor out = (OnnxTensor) result.get(0);
                FloatBuffer values = out.getFloatBuffer();
                float[] copy = new float[values.remaining()];
                values.get(copy);
                return Nd4j.createFromArray(copy).reshape('c', out.getInfo().getShape());
            }
        }

        @Override
        public void close() throws OrtException {
            session.close();
        }
    }

    /** @return the list of results, for printing */
    static List<String> table(List<Comparison> comparisons) {
        List<String> lines = new ArrayList<>();
        lines.add("| bits | form | lsq4j top-1 % | ONNX Runtime top-1 % | agreement % | lowest over levels % | max output diff | codes changed by rounding | ONNX KB | DL4J zip KB |");
        lines.add("|---|---|---|---|---|---|---|---|---|---|");
        for (Comparison c : comparisons) {
            lines.add(String.format(java.util.Locale.ROOT, "| %d | %s | %.2f | %.2f | %.2f | %.2f | %.2g | %d of %d | %d | %d |",
                    c.bits(), c.format(), 100 * c.lsq4jTop1(), 100 * c.onnxTop1(), 100 * c.agreement(),
                    100 * c.lowestAgreement(), c.maxOutputDifference(),
                    c.changedByRounding(), c.quantizedInputs(), c.onnxBytes() / 1024, c.zipBytes() / 1024));
        }
        return lines;
    }
}
