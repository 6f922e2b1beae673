package io.github.lsq4j.samples.parity;

import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqLayerConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The PyTorch reference's parameter names and layouts ({@code lsq_ref.py}'s ResNet state_dict) for the
 * parameters of the demo's {@code SmallResNet}, float or converted to LSQ, both ways.
 *
 * <p>Layers: {@code stem}, {@code bn} (the stem's batch norm), {@code layers.K.c1/b1/c2/b2/sc.0/sc.1}
 * (block K's convolutions, batch norms and projection) and {@code fc} are lsq4j's {@code stem},
 * {@code stem_bn}, {@code sSbB_a/_a_bn/_b/_b_bn/_proj/_proj_bn} and {@code fc}. Parameters:
 * {@code weight} (PyTorch's {@code [out, in, kH, kW]} and {@code [out, in]}; lsq4j's stock convolution
 * has the same, {@link LsqConv2D} {@code [kH, kW, in, out]}, the output layer {@code [in, out]}),
 * {@code bias}, {@code wq.s} and {@code aq.s} (weight and input steps), and a batch norm's
 * {@code weight}, {@code bias}, {@code running_mean}, {@code running_var} (DL4J keeps log10 of the
 * standard deviation where the layer uses that parameterization).
 */
final class ReferenceNames {
    private static final Pattern BLOCK = Pattern.compile("layers\\.(\\d+)\\.(c1|b1|c2|b2|sc\\.0|sc\\.1)\\.(.+)");
    private static final Pattern EDGE = Pattern.compile("(stem|bn|fc)\\.(.+)");

    private final ComputationGraph net;
    private final int blocksPerStage;

    /**
     * @param net   a {@code SmallResNet}, float or LSQ
     * @param depth its depth, 8 or 20
     */
    ReferenceNames(ComputationGraph net, int depth) {
        this.net = net;
        this.blocksPerStage = (depth - 2) / 6;
    }

    /** Where a reference parameter lives in the DL4J network. */
    private record Target(String layer, String key, Kind kind) {
    }

    private enum Kind { CONV_WEIGHT, LSQ_CONV_WEIGHT, DENSE_WEIGHT, BIAS, STEP, BN_PARAM, BN_MEAN, BN_VAR, BN_LOG_STD }

    /**
     * Writes the reference's arrays into the network's parameters.
     *
     * @param arrays reference names to arrays in the reference's layouts
     * @throws IllegalArgumentException naming an array that has no place in the network, or a shape
     *                                  that does not fit
     */
    void load(Map<String, INDArray> arrays) {
        arrays.forEach((name, value) -> {
            Target t = target(name);
            INDArray param = net.getLayer(t.layer()).getParam(t.key());
            INDArray v = toDl4j(value.castTo(param.dataType()), t.kind());
            if (v.length() != param.length()) {
                throw new IllegalArgumentException(name + ": shape " + java.util.Arrays.toString(value.shape())
                        + " does not fit " + t.layer() + "_" + t.key() + " " + java.util.Arrays.toString(param.shape()));
            }
            param.assign(v.reshape(param.shape()));
        });
    }

    /**
     * The network's arrays under the reference's names and in its layouts.
     *
     * @param names  the reference names to read (those of the reference's state_dict)
     * @param values DL4J parameter (or gradient) arrays by {@code layer_key}, e.g. the network's
     *               parameter table or a gradient's
     * @return reference names to arrays (of the values' precision); names without a DL4J value are left out
     */
    Map<String, INDArray> read(Iterable<String> names, Map<String, INDArray> values) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String name : names) {
            Target t = target(name);
            INDArray v = values.get(t.layer() + "_" + t.key());
            if (v != null) {
                out.put(name, toReference(v, t.kind()));
            }
        }
        return out;
    }

    private Target target(String name) {
        String layer;
        String param;
        Matcher block = BLOCK.matcher(name);
        Matcher edge = EDGE.matcher(name);
        if (block.matches()) {
            int k = Integer.parseInt(block.group(1));
            String prefix = "s" + (k / blocksPerStage + 1) + "b" + (k % blocksPerStage + 1);
            layer = prefix + switch (block.group(2)) {
                case "c1" -> "_a";
                case "b1" -> "_a_bn";
                case "c2" -> "_b";
                case "b2" -> "_b_bn";
                case "sc.0" -> "_proj";
                default -> "_proj_bn";
            };
            param = block.group(3);
        } else if (edge.matches()) {
            layer = edge.group(1).equals("bn") ? "stem_bn" : edge.group(1);
            param = edge.group(2);
        } else {
            throw new IllegalArgumentException("not a parameter of the reference ResNet: " + name);
        }
        Layer l = net.getLayer(layer);
        if (l == null) {
            throw new IllegalArgumentException(name + ": the network has no layer " + layer);
        }
        if (l.conf().getLayer() instanceof BatchNormalization bn) {
            return switch (param) {
                case "weight" -> new Target(layer, BatchNormalizationParamInitializer.GAMMA, Kind.BN_PARAM);
                case "bias" -> new Target(layer, BatchNormalizationParamInitializer.BETA, Kind.BN_PARAM);
                case "running_mean" -> new Target(layer, BatchNormalizationParamInitializer.GLOBAL_MEAN, Kind.BN_MEAN);
                case "running_var" -> bn.isUseLogStd()
                        ? new Target(layer, BatchNormalizationParamInitializer.GLOBAL_LOG_STD, Kind.BN_LOG_STD)
                        : new Target(layer, BatchNormalizationParamInitializer.GLOBAL_VAR, Kind.BN_VAR);
                default -> throw new IllegalArgumentException("not a batch-norm parameter: " + name);
            };
        }
        return switch (param) {
            case "weight" -> new Target(layer, DefaultParamInitializer.WEIGHT_KEY,
                    l.conf().getLayer() instanceof LsqConv2D ? Kind.LSQ_CONV_WEIGHT
                            : l.conf().getLayer() instanceof ConvolutionLayer ? Kind.CONV_WEIGHT : Kind.DENSE_WEIGHT);
            case "bias" -> new Target(layer, DefaultParamInitializer.BIAS_KEY, Kind.BIAS);
            case "wq.s" -> new Target(layer, LsqLayerConfig.WEIGHT_STEP_KEY, Kind.STEP);
            case "aq.s" -> new Target(layer, LsqLayerConfig.INPUT_STEP_KEY, Kind.STEP);
            default -> throw new IllegalArgumentException("not a parameter of layer " + layer + ": " + name);
        };
    }

    private static INDArray toDl4j(INDArray v, Kind kind) {
        return switch (kind) {
            case LSQ_CONV_WEIGHT -> v.permute(2, 3, 1, 0);
            case DENSE_WEIGHT -> v.transpose();
            case BN_LOG_STD -> Transforms.log(v, 10.0, true).muli(0.5);
            default -> v;
        };
    }

    private static INDArray toReference(INDArray v, Kind kind) {
        return switch (kind) {
            case LSQ_CONV_WEIGHT -> v.permute(3, 2, 0, 1).dup('c');
            case DENSE_WEIGHT -> v.transpose().dup('c');
            case BN_LOG_STD -> Transforms.exp(v.reshape(v.length()).mul(2 * Math.log(10)), false); // var = 10^(2 log10 std)
            case BIAS, BN_PARAM, BN_MEAN, BN_VAR, STEP -> v.reshape(v.length()).dup('c');
            default -> v.dup('c');
        };
    }
}
