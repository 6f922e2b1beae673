package io.github.lsq4j.train;

import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.Quantizer;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * The paper's training recipe: SGD with momentum 0.9, a cosine learning-rate decay over all
 * iterations, an initial learning rate of 0.01 for 2 to 4 bits (0.001 at 8 bits, 0.1 in full
 * precision), and weight decay lowered with precision: 1e-4 at 4 and 8 bits (and full precision),
 * 0.5e-4 at 3 bits, 0.25e-4 at 2 bits. Every value can be overridden.
 *
 * <p>Weight decay is DL4J's {@link L2Regularization}, added to the gradient before the momentum as
 * PyTorch's {@code weight_decay} does, on weights, biases and batch-norm gamma and beta, as the paper's
 * PyTorch recipe decays every parameter; LSQ step sizes never get it (the LSQ layers exclude them). DL4J
 * never decays batch-norm parameters, so the recipe swaps each {@link BatchNormalization} for a
 * {@link DecayedBatchNormalization} (same parameters); {@link #withBatchNormDecay(boolean) withBatchNormDecay(false)}
 * keeps DL4J's rule.
 */
public final class LsqRecipe {
    /** The paper's momentum. */
    public static final double MOMENTUM = 0.9;

    private final double learningRate;
    private final double momentum;
    private final double weightDecay;
    private final boolean batchNormDecay;

    private LsqRecipe(double learningRate, double momentum, double weightDecay, boolean batchNormDecay) {
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be finite and > 0, got " + learningRate);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay must be finite and >= 0, got " + weightDecay);
        }
        this.learningRate = learningRate;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.batchNormDecay = batchNormDecay;
    }

    /**
     * The paper's settings for a target precision.
     *
     * @param bits the network's target bit width, 2 to 8
     * @return the recipe
     */
    public static LsqRecipe paper(int bits) {
        QuantRange.checkBits("recipe bits", bits);
        double lr = bits == 8 ? 0.001 : 0.01;
        double wd = switch (bits) {
            case 2 -> 0.25e-4;
            case 3 -> 0.5e-4;
            default -> 1e-4;
        };
        return new LsqRecipe(lr, MOMENTUM, wd, true);
    }

    /**
     * The paper's settings for the precision a policy targets, so that the bit width is stated once.
     *
     * @param policy the policy the network was converted with
     * @return {@code paper(policy.bits())}
     */
    public static LsqRecipe paper(QuantizationPolicy policy) {
        return paper(policy.bits());
    }

    /**
     * The paper's settings for the precision of an LSQ network: its target bit width is the narrowest
     * weight quantizer among its LSQ layers (the first and last layer's 8 bits are the exception).
     *
     * @param net an LSQ network (MultiLayerNetwork or ComputationGraph)
     * @return the recipe for that bit width
     * @throws IllegalArgumentException if no layer of the network quantizes its weights
     */
    public static LsqRecipe paper(Model net) {
        return paper(LsqLayers.lsqLayers(net).stream()
                .map(l -> l.lsqConf().getWeightQuantizer())
                .filter(Objects::nonNull)
                .mapToInt(Quantizer::bits)
                .min()
                .orElseThrow(() -> new IllegalArgumentException("the network has no layer with quantized weights; "
                        + "convert it first (LsqConverter), or use LsqRecipe.fullPrecision()")));
    }

    /** @return the paper's full-precision settings: learning rate 0.1, weight decay 1e-4 */
    public static LsqRecipe fullPrecision() {
        return new LsqRecipe(0.1, MOMENTUM, 1e-4, true);
    }

    /**
     * @param learningRate the initial learning rate
     * @return a copy with it
     */
    public LsqRecipe withLearningRate(double learningRate) {
        return new LsqRecipe(learningRate, momentum, weightDecay, batchNormDecay);
    }

    /**
     * @param momentum the momentum
     * @return a copy with it
     */
    public LsqRecipe withMomentum(double momentum) {
        return new LsqRecipe(learningRate, momentum, weightDecay, batchNormDecay);
    }

    /**
     * @param weightDecay the L2 weight decay (0 for none)
     * @return a copy with it
     */
    public LsqRecipe withWeightDecay(double weightDecay) {
        return new LsqRecipe(learningRate, momentum, weightDecay, batchNormDecay);
    }

    /**
     * @param batchNormDecay whether batch-norm gamma and beta get the weight decay: true in the paper's
     *                       recipe (PyTorch decays every parameter), false for DL4J's rule
     * @return a copy with it
     */
    public LsqRecipe withBatchNormDecay(boolean batchNormDecay) {
        return new LsqRecipe(learningRate, momentum, weightDecay, batchNormDecay);
    }

    /** @return the initial learning rate */
    public double learningRate() {
        return learningRate;
    }

    /** @return the momentum */
    public double momentum() {
        return momentum;
    }

    /** @return the weight decay */
    public double weightDecay() {
        return weightDecay;
    }

    /** @return whether batch-norm gamma and beta get the weight decay */
    public boolean batchNormDecay() {
        return batchNormDecay;
    }

    /**
     * @param totalIterations iterations of the whole run, over which the rate decays to 0
     * @return SGD with momentum and the cosine schedule
     */
    public IUpdater updater(long totalIterations) {
        return new SgdMomentum(CosineSchedule.overIterations(learningRate, totalIterations), momentum);
    }

    /** @return the weight decay as DL4J regularization (empty when 0) */
    public List<Regularization> regularization() {
        return weightDecay == 0 ? List.of() : List.of(new L2Regularization(weightDecay));
    }

    /**
     * A copy of the network, with the same parameters, that trains with this recipe: every layer gets
     * the updater and the weight decay (batch-norm layers become {@link DecayedBatchNormalization} or
     * stock ones, as {@link #batchNormDecay()} says), and iteration and epoch counts restart at 0.
     *
     * @param net             the network (initialized)
     * @param totalIterations the iterations of the run
     * @return the copy
     */
    public MultiLayerNetwork applyTo(MultiLayerNetwork net, long totalIterations) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
        configure(conf.getConfs().stream(), totalIterations);
        conf.setIterationCount(0);
        conf.setEpochCount(0);
        MultiLayerNetwork out = new MultiLayerNetwork(conf);
        out.init(net.params().dup(), false);
        return out;
    }

    /**
     * @param graph           the network (initialized)
     * @param totalIterations the iterations of the run
     * @return a copy with the same parameters that trains with this recipe
     * @see #applyTo(MultiLayerNetwork, long)
     */
    public ComputationGraph applyTo(ComputationGraph graph, long totalIterations) {
        ComputationGraphConfiguration conf = graph.getConfiguration().clone();
        configure(conf.getVertices().values().stream()
                .filter(LayerVertex.class::isInstance)
                .map(v -> ((LayerVertex) v).getLayerConf()), totalIterations);
        conf.setIterationCount(0);
        conf.setEpochCount(0);
        ComputationGraph out = new ComputationGraph(conf);
        out.init(graph.params().dup(), false);
        return out;
    }

    /** Gives every layer its own instance of the recipe's updater, and the weight decay. */
    private void configure(Stream<NeuralNetConfiguration> layerConfs, long totalIterations) {
        layerConfs.forEach(conf -> {
            if (conf.getLayer() instanceof BatchNormalization bn) {
                conf.setLayer(batchNormDecay ? DecayedBatchNormalization.of(bn) : DecayedBatchNormalization.stock(bn));
            }
            Layer layer = conf.getLayer();
            IUpdater updater = updater(totalIterations);
            if (layer instanceof BaseLayer b) {
                b.setIUpdater(updater);
                b.setBiasUpdater(null);
                b.setRegularization(regularization());
                b.setRegularizationBias(regularization());
            } else if (layer instanceof AbstractSameDiffLayer s) {
                s.setUpdater(updater);
                s.setBiasUpdater(null);
                s.setRegularization(regularization());
                s.setRegularizationBias(regularization());
            }
        });
    }

    @Override
    public String toString() {
        return "LsqRecipe(lr=" + learningRate + " cosine, momentum=" + momentum + ", weightDecay=" + weightDecay
                + (batchNormDecay ? " incl. batch norm" : " excl. batch norm") + ")";
    }
}
