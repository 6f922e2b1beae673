package io.github.lsq4j.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.adapter.MultiDataSetIteratorAdapter;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-estimates the running mean and variance of every batch-norm layer from the network as it is now.
 *
 * <p>Why: inference normalizes with running statistics, an exponential moving average (decay 0.9, so
 * about the last ten batches) of the batch statistics seen while the weights were changing. At low bit
 * widths, quantized weights and step sizes keep flipping between neighbouring codes until the last
 * iteration (Nagel et al., ICML 2022, "Overcoming Oscillations in Quantization-Aware Training"), so the
 * average describes a mixture of networks rather than the final one, and inference loses accuracy that
 * the final weights have. This pass replaces the running statistics by the exact average, over
 * {@code maxBatches} batches, of the batch statistics of the final network: the training-mode forward
 * pass that training used, with every parameter fixed.
 *
 * <p>Semantics, as PyTorch's {@code momentum=None} cumulative average: the mean is the example-weighted
 * average of the batch means, the variance the example-weighted average of the (biased, as DL4J's batch
 * norm computes them) batch variances, per channel. Layers inside {@code FrozenLayer} wrappers are
 * re-estimated too (their statistics are not trained parameters). No other parameter changes: the
 * forward passes run in training mode (as training does, so dropout is active and batch norms normalize
 * with batch statistics), and any parameter that a training-mode pass writes (an LSQ input step that
 * was never initialized) is restored afterwards.
 */
public final class BatchNormStatistics {
    private static final Logger log = LoggerFactory.getLogger(BatchNormStatistics.class);
    /**
     * Floor on a re-estimated variance: a channel that is constant on the data (variance 0) would
     * store log10(0) = -infinity in DL4J's log-std parameterization and turn later updates into NaN.
     */
    static final double MIN_VARIANCE = 1e-20;

    private BatchNormStatistics() {
    }

    /**
     * Re-estimates every batch norm of a single-input network from up to {@code maxBatches} batches.
     * The iterator is reset first if it supports it.
     *
     * @param model      a MultiLayerNetwork or ComputationGraph (single input), initialized
     * @param data       input data, e.g. the training iterator (labels are not used)
     * @param maxBatches how many batches to average over, at least 1
     * @return the number of batch-norm layers re-estimated (0 if the network has none)
     * @throws IllegalArgumentException if {@code maxBatches < 1}, the iterator is empty, or a batch
     *                                  norm's input has a rank other than 2 or 4
     */
    public static int reestimate(Model model, DataSetIterator data, int maxBatches) {
        return reestimate(Estimator.of(model), new MultiDataSetIteratorAdapter(data), maxBatches);
    }

    /**
     * Re-estimates every batch norm of a ComputationGraph with any number of inputs.
     *
     * @param graph      the network, initialized
     * @param data       input data (labels are not used)
     * @param maxBatches how many batches to average over, at least 1
     * @return the number of batch-norm layers re-estimated
     * @throws IllegalArgumentException see {@link #reestimate(Model, DataSetIterator, int)}
     */
    public static int reestimate(ComputationGraph graph, MultiDataSetIterator data, int maxBatches) {
        return reestimate(Estimator.of(graph), data, maxBatches);
    }

    private static int reestimate(Estimator estimator, MultiDataSetIterator data, int maxBatches) {
        if (maxBatches < 1) {
            throw new IllegalArgumentException("maxBatches must be >= 1, got " + maxBatches);
        }
        if (data.resetSupported()) {
            data.reset();
        }
        int batches = 0;
        while (batches < maxBatches && data.hasNext()) {
            estimator.add(data.next().getFeatures());
            batches++;
        }
        return estimator.finish(batches);
    }

    /** A batch norm of the network: its runtime layer, configuration, and where its input comes from. */
    private record BatchNorm(String name, Layer layer, BatchNormalization conf, String inputVertex,
                             int inputIndex, InputPreProcessor preProcessor) {
    }

    /** Accumulates example-weighted sums of batch means and variances, per batch norm. */
    private static final class Estimator {
        private final Model model;
        private final List<BatchNorm> norms;
        private final INDArray[] meanSums;
        private final INDArray[] varianceSums;
        private final INDArray paramsBefore;
        private long examples;

        private Estimator(Model model, List<BatchNorm> norms) {
            this.model = model;
            this.norms = norms;
            this.meanSums = new INDArray[norms.size()];
            this.varianceSums = new INDArray[norms.size()];
            this.paramsBefore = norms.isEmpty() ? null : model.params().dup();
        }

        static Estimator of(Model model) {
            List<BatchNorm> norms = new ArrayList<>();
            if (model instanceof ComputationGraph cg) {
                ComputationGraphConfiguration conf = cg.getConfiguration();
                for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
                    if (e.getValue() instanceof LayerVertex lv && unwrap(lv.getLayerConf().getLayer()) instanceof BatchNormalization bn) {
                        norms.add(new BatchNorm(e.getKey(), cg.getLayer(e.getKey()), bn,
                                conf.getVertexInputs().get(e.getKey()).get(0), -1, lv.getPreProcessor()));
                    }
                }
            } else if (model instanceof MultiLayerNetwork mln) {
                MultiLayerConfiguration conf = mln.getLayerWiseConfigurations();
                for (int i = 0; i < conf.getConfs().size(); i++) {
                    if (unwrap(conf.getConf(i).getLayer()) instanceof BatchNormalization bn) {
                        String name = conf.getConf(i).getLayer().getLayerName();
                        norms.add(new BatchNorm(name != null ? name : "layer " + i, mln.getLayer(i), bn, null, i,
                                conf.getInputPreProcess(i)));
                    }
                }
            } else {
                throw new IllegalArgumentException("expected a MultiLayerNetwork or ComputationGraph, got "
                        + (model == null ? "null" : model.getClass().getName()));
            }
            return new Estimator(model, norms);
        }

        private static org.deeplearning4j.nn.conf.layers.Layer unwrap(org.deeplearning4j.nn.conf.layers.Layer l) {
            if (l instanceof FrozenLayer f) {
                return unwrap(f.getLayer());
            }
            if (l instanceof FrozenLayerWithBackprop f) {
                return unwrap(f.getUnderlying());
            }
            return l;
        }

        void add(INDArray[] features) {
            if (norms.isEmpty()) {
                return;
            }
            long batch = features[0].size(0);
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                Map<String, INDArray> byVertex = null;
                List<INDArray> byLayer = null;
                if (model instanceof ComputationGraph cg) {
                    byVertex = cg.feedForward(features, true);
                } else {
                    byLayer = ((MultiLayerNetwork) model).feedForward(features[0], true);
                }
                for (int k = 0; k < norms.size(); k++) {
                    BatchNorm bn = norms.get(k);
                    // The list of a MultiLayerNetwork starts with the network input: layer i reads entry i.
                    INDArray x = byVertex != null ? byVertex.get(bn.inputVertex()) : byLayer.get(bn.inputIndex());
                    if (bn.preProcessor() != null) {
                        x = bn.preProcessor().preProcess(x, (int) batch, LayerWorkspaceMgr.noWorkspaces());
                    }
                    int[] dims = reductionDims(bn, x);
                    INDArray mean = x.mean(dims).castTo(DataType.DOUBLE).muli(batch);
                    INDArray variance = x.var(false, dims).castTo(DataType.DOUBLE).muli(batch);
                    meanSums[k] = meanSums[k] == null ? mean : meanSums[k].addi(mean);
                    varianceSums[k] = varianceSums[k] == null ? variance : varianceSums[k].addi(variance);
                }
            }
            examples += batch;
            // The activations of every layer were allocated outside any workspace, and ND4J frees such
            // memory only when the Java arrays are garbage-collected, which a nearly empty heap rarely
            // triggers: without this, 50 batches of a ResNet-20 held 15 GB off-heap.
            Nd4j.getMemoryManager().invokeGc();
        }

        private static int[] reductionDims(BatchNorm bn, INDArray x) {
            return switch (x.rank()) {
                case 2 -> new int[] {0};
                case 4 -> bn.conf().getCnn2DFormat() == CNN2DFormat.NHWC ? new int[] {0, 1, 2} : new int[] {0, 2, 3};
                default -> throw new IllegalArgumentException("batch norm '" + bn.name() + "': cannot re-estimate "
                        + "statistics of a rank-" + x.rank() + " input " + Arrays.toString(x.shape())
                        + " (supported: rank 2 and 4)");
            };
        }

        int finish(int batches) {
            if (batches == 0) {
                throw new IllegalArgumentException("batch-norm re-estimation: the data iterator has no batches");
            }
            if (norms.isEmpty()) {
                return 0;
            }
            // Training-mode passes may have written parameters (an uninitialized LSQ input step): undo that.
            model.params().assign(paramsBefore);
            for (int k = 0; k < norms.size(); k++) {
                BatchNorm bn = norms.get(k);
                INDArray mean = meanSums[k].divi(examples);
                INDArray variance = Transforms.max(varianceSums[k].divi(examples), MIN_VARIANCE, false);
                write(bn, BatchNormalizationParamInitializer.GLOBAL_MEAN, mean);
                if (bn.conf().isUseLogStd()) {
                    write(bn, BatchNormalizationParamInitializer.GLOBAL_LOG_STD, Transforms.log(variance, 10.0, false).muli(0.5));
                } else {
                    write(bn, BatchNormalizationParamInitializer.GLOBAL_VAR, variance);
                }
            }
            log.info("re-estimated the statistics of {} batch norms on {} examples in {} batches", norms.size(),
                    examples, batches);
            return norms.size();
        }

        private static void write(BatchNorm bn, String key, INDArray value) {
            INDArray param = bn.layer().getParam(key);
            param.assign(value.reshape(param.shape()).castTo(param.dataType()));
        }
    }
}
