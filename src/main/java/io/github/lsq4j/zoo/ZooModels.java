package io.github.lsq4j.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.zoo.model.ResNet50;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The DL4J zoo's ResNet50, fixed so that it trains and accepts small inputs. Needs
 * {@code org.deeplearning4j:deeplearning4j-zoo} on the class path, an optional dependency of lsq4j.
 */
public final class ZooModels {
    /** Name of the pooling vertex before the classifier in the zoo ResNet50. */
    public static final String RESNET50_POOL = "avgpool";

    private ZooModels() {
    }

    /**
     * The zoo ResNet50 (an uninitialized configuration) with three changes:
     * <ul>
     *   <li>the zoo's {@value #RESNET50_POOL} vertex is in fact a 3x3 max pool, which makes inputs smaller
     *       than about 132x132 fail at init; it is replaced by a global average pool of the same name,
     *       which is what ResNet-50 has and works for any input of at least 32x32;</li>
     *   <li>He (ReLU) weight initialization instead of the zoo's truncated normal (0, 0.5), with which an
     *       untrained network gives NaN;</li>
     *   <li>the given updater instead of the zoo's RmsProp(0.1).</li>
     * </ul>
     *
     * @param numClasses classes of the output layer, > 0
     * @param channels   input channels
     * @param height     input height, >= 32
     * @param width      input width, >= 32
     * @param seed       the weight-initialization seed
     * @param updater    the updater of every layer
     * @return the configuration
     * @throws IllegalArgumentException naming the bad value
     */
    public static ComputationGraphConfiguration resNet50(int numClasses, int channels, int height, int width, long seed,
                                                         IUpdater updater) {
        if (numClasses < 1) {
            throw new IllegalArgumentException("ResNet50 needs numClasses >= 1, got " + numClasses);
        }
        if (channels < 1 || height < 32 || width < 32) {
            throw new IllegalArgumentException("ResNet50 needs inputs of at least 1x32x32, got " + channels + "x" + height
                    + "x" + width);
        }
        ComputationGraphConfiguration.GraphBuilder builder = ResNet50.builder()
                .numClasses(numClasses)
                .inputShape(new int[] {channels, height, width})
                .seed(seed)
                .weightInit(WeightInit.RELU.getWeightInitFunction())
                .updater(updater)
                .build()
                .graphBuilder();
        String poolInput = builder.getVertexInputs().get(RESNET50_POOL).get(0);
        builder.removeVertex(RESNET50_POOL, false);
        builder.addLayer(RESNET50_POOL, new GlobalPoolingLayer(PoolingType.AVG), poolInput);
        return builder.build();
    }

    /**
     * {@link #resNet50(int, int, int, int, long, IUpdater)}, initialized.
     *
     * @param numClasses classes of the output layer
     * @param channels   input channels
     * @param height     input height, >= 32
     * @param width      input width, >= 32
     * @param seed       the weight-initialization seed
     * @param updater    the updater of every layer
     * @return the initialized network
     */
    public static ComputationGraph initResNet50(int numClasses, int channels, int height, int width, long seed,
                                                IUpdater updater) {
        ComputationGraph graph = new ComputationGraph(resNet50(numClasses, channels, height, width, seed, updater));
        graph.init();
        return graph;
    }
}
