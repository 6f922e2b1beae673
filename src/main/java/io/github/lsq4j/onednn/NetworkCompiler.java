package io.github.lsq4j.onednn;

import io.github.lsq4j.layers.AbstractLsqLayer;
import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqDepthwiseConv2D;
import io.github.lsq4j.layers.LsqIntegerParams;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.QuantizedLayer;
import io.github.lsq4j.train.DecayedBatchNormalization;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.dnnl.global.dnnl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.params.SeparableConvolutionParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Translates a DL4J network into a {@link Program}, one layer or vertex at a time, in the network's order.
 * Each layer kind it knows is one entry of {@link #TABLE}; any other kind is refused, naming the layer and
 * its kind.
 */
final class NetworkCompiler {
    /** How one kind of layer becomes ops: reads the layer's input value, returns its output value. */
    @FunctionalInterface
    private interface Translation {
        Value translate(NetworkCompiler c, Layer layer, String name, Value input);
    }

    private static final Map<Class<?>, Translation> TABLE = Map.ofEntries(
            Map.entry(LsqConv2D.class, NetworkCompiler::lsqLayer),
            Map.entry(LsqDepthwiseConv2D.class, NetworkCompiler::lsqLayer),
            Map.entry(io.github.lsq4j.layers.LsqDense.class, NetworkCompiler::lsqLayer),
            Map.entry(io.github.lsq4j.layers.LsqOutputLayer.class, NetworkCompiler::lsqLayer),
            Map.entry(ConvolutionLayer.class, NetworkCompiler::floatConvolution),
            Map.entry(DepthwiseConvolution2D.class, NetworkCompiler::floatDepthwise),
            Map.entry(SeparableConvolution2D.class, NetworkCompiler::floatSeparable),
            Map.entry(DenseLayer.class, NetworkCompiler::floatDense),
            Map.entry(OutputLayer.class, NetworkCompiler::floatDense),
            Map.entry(BatchNormalization.class, NetworkCompiler::batchNorm),
            Map.entry(DecayedBatchNormalization.class, NetworkCompiler::batchNorm), // the recipe's (LsqRecipe)
            Map.entry(ActivationLayer.class, (c, l, n, x) -> c.activation(n, x, ((ActivationLayer) l.conf().getLayer()).getActivationFn())),
            Map.entry(LossLayer.class, (c, l, n, x) -> c.activation(n, x, ((LossLayer) l.conf().getLayer()).getActivationFn())),
            Map.entry(DropoutLayer.class, (c, l, n, x) -> x),
            Map.entry(SubsamplingLayer.class, NetworkCompiler::pooling),
            Map.entry(GlobalPoolingLayer.class, NetworkCompiler::globalPooling),
            Map.entry(ZeroPaddingLayer.class, NetworkCompiler::zeroPadding));

    private final Program program = new Program();
    /** Zero padding waiting for the convolution that reads it: the padded value, the unpadded one and the padding. */
    private final Map<Value, Padding> pendingPadding = new IdentityHashMap<>();

    private record Padding(Value input, long top, long bottom, long left, long right) {
    }

    private NetworkCompiler() {
    }

    /**
     * @param net         a MultiLayerNetwork (one input of {@code inputShapes[0]}) or a ComputationGraph (one shape
     *                    per network input, in the configuration's order)
     * @param inputShapes the shape of one example of each input, without the batch axis
     * @return the program, optimized
     */
    static Program compile(org.deeplearning4j.nn.api.Model net, List<long[]> inputShapes) {
        NetworkCompiler c = new NetworkCompiler();
        if (net instanceof MultiLayerNetwork mln) {
            c.multiLayerNetwork(mln, single(inputShapes));
        } else if (net instanceof ComputationGraph cg) {
            c.graph(cg, inputShapes);
        } else {
            throw new IllegalArgumentException("expected a MultiLayerNetwork or ComputationGraph, got "
                    + (net == null ? "null" : net.getClass().getName()));
        }
        if (!c.pendingPadding.isEmpty()) {
            throw new IllegalArgumentException("zero padding of '" + c.pendingPadding.keySet().iterator().next().name
                    + "' is read by no convolution; only a convolution after zero padding compiles");
        }
        c.program.optimize();
        return c.program;
    }

    private static long[] single(List<long[]> shapes) {
        if (shapes.size() != 1) {
            throw new IllegalArgumentException("a MultiLayerNetwork has one input; got " + shapes.size() + " shapes");
        }
        return shapes.get(0);
    }

    private void multiLayerNetwork(MultiLayerNetwork net, long[] inputShape) {
        Value x = input("input", 0, inputShape);
        for (int i = 0; i < net.getnLayers(); i++) {
            InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
            Layer layer = LsqLayers.unwrap(net.getLayer(i));
            String name = layer.conf().getLayer().getLayerName() != null ? layer.conf().getLayer().getLayerName()
                    : String.valueOf(i);
            x = layer(layer, name, preProcessor(pre, name, x));
        }
        output("output", 0, x);
    }

    private void graph(ComputationGraph graph, List<long[]> inputShapes) {
        ComputationGraphConfiguration conf = graph.getConfiguration();
        List<String> inputNames = conf.getNetworkInputs();
        if (inputShapes.size() != inputNames.size()) {
            throw new IllegalArgumentException("the graph has " + inputNames.size() + " inputs " + inputNames + "; got "
                    + inputShapes.size() + " shapes");
        }
        Map<String, Value> values = new HashMap<>();
        for (int i = 0; i < inputNames.size(); i++) {
            values.put(inputNames.get(i), input(inputNames.get(i), i, inputShapes.get(i)));
        }
        for (int index : graph.topologicalSortOrder()) {
            String name = graph.getVertices()[index].getVertexName();
            if (values.containsKey(name)) {
                continue;
            }
            List<Value> in = conf.getVertexInputs().get(name).stream().map(values::get).toList();
            values.put(name, vertex(name, conf.getVertices().get(name), graph.getLayer(name), in));
        }
        List<String> outputs = conf.getNetworkOutputs();
        for (int i = 0; i < outputs.size(); i++) {
            output(outputs.get(i), i, values.get(outputs.get(i)));
        }
    }

    private Value vertex(String name, GraphVertex vertex, Layer layer, List<Value> inputs) {
        if (vertex instanceof LayerVertex lv) {
            return layer(LsqLayers.unwrap(layer), name, preProcessor(lv.getPreProcessor(), name, single(name, inputs)));
        }
        if (vertex instanceof ElementWiseVertex ew && ew.getOp() == ElementWiseVertex.Op.Add) {
            Value sum = resolved(name, inputs.get(0));
            for (Value next : inputs.subList(1, inputs.size())) {
                Value rhs = resolved(name, next);
                requireSameDims(name, sum, rhs);
                sum = program.add(ElementwiseOp.sum(name, sum, rhs, new Value(name, sum.dims))).output;
            }
            return sum;
        }
        if (vertex instanceof ScaleVertex sv) {
            Value x = resolved(name, single(name, inputs));
            return program.add(ElementwiseOp.scale(name, x, new Value(name, x.dims), (float) sv.getScaleFactor())).output;
        }
        if (vertex instanceof MergeVertex) {
            List<Value> parts = inputs.stream().map(v -> resolved(name, v)).toList();
            long channels = 0;
            for (Value part : parts) {
                if (part.dims.length != parts.get(0).dims.length || (part.isSpatial() && (part.dims[1] != parts.get(0).dims[1]
                        || part.dims[2] != parts.get(0).dims[2]))) {
                    throw new IllegalArgumentException("vertex '" + name + "': merges " + parts + " of different shapes");
                }
                channels += part.channels();
            }
            long[] dims = parts.get(0).dims.clone();
            dims[0] = channels;
            return program.add(new ConcatOp(name, parts, new Value(name, dims))).output;
        }
        if (vertex instanceof PreprocessorVertex pv) {
            return preProcessor(pv.getPreProcessor(), name, single(name, inputs));
        }
        throw new IllegalArgumentException("vertex '" + name + "': kind " + vertex.getClass().getSimpleName()
                + (vertex instanceof ElementWiseVertex ew ? " (" + ew.getOp() + ")" : "")
                + " has no integer kernel (compiled: layers, ElementWiseVertex Add, MergeVertex, ScaleVertex, PreprocessorVertex)");
    }

    private static Value single(String name, List<Value> inputs) {
        if (inputs.size() != 1) {
            throw new IllegalArgumentException("vertex '" + name + "' has " + inputs.size() + " inputs; a layer takes one");
        }
        return inputs.get(0);
    }

    /**
     * DL4J's flattening of {@code [N, C, H, W]} is read by the dense layer after it ({@link #dense}); its
     * reshaping of a flat input into {@code [N, C, H, W]} passes an input that already has that shape through
     * unchanged, as DL4J does.
     */
    private static Value preProcessor(InputPreProcessor pre, String name, Value x) {
        if (pre == null || pre instanceof CnnToFeedForwardPreProcessor) {
            return x;
        }
        if (pre instanceof FeedForwardToCnnPreProcessor f && x.isSpatial() && java.util.Arrays.equals(x.dims,
                new long[] {f.getNumChannels(), f.getInputHeight(), f.getInputWidth()})) {
            return x;
        }
        throw new IllegalArgumentException("layer " + name + ": preprocessor " + pre.getClass().getSimpleName()
                + " on " + x + " has no integer kernel (compiled: CnnToFeedForwardPreProcessor, and "
                + "FeedForwardToCnnPreProcessor on an input of its shape)");
    }

    private Value layer(Layer layer, String name, Value input) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        Translation t = TABLE.get(conf.getClass());
        if (t == null) {
            throw new IllegalArgumentException("layer " + name + ": kind " + conf.getClass().getSimpleName()
                    + " has no integer kernel (compiled kinds: " + TABLE.keySet().stream().map(Class::getSimpleName)
                    .sorted().toList() + ")");
        }
        if (!(conf instanceof LsqConv2D) && !(conf instanceof ConvolutionLayer)) { // (depthwise and separable are ConvolutionLayers)
            input = resolved(name, input);
        }
        return t.translate(this, layer, name, input);
    }

    /** A value that no pending zero padding stands for: only a convolution reads a padded value. */
    private Value resolved(String reader, Value v) {
        if (pendingPadding.containsKey(v)) {
            throw new IllegalArgumentException("layer " + reader + " reads the zero padding '" + v.name
                    + "'; only a convolution after zero padding compiles");
        }
        return v;
    }

    private Value input(String name, int index, long[] shape) {
        return program.add(new InputOp(name, index, new Value(name, shape))).output;
    }

    private void output(String name, int index, Value v) {
        program.add(new OutputOp(name, index, resolved(name, v)));
    }

    // ---------------------------------------------------------------- layers

    /**
     * The program of one LSQ layer's linear operation, without its activation: what the layer's integer
     * inference path runs.
     *
     * @param layer      the layer
     * @param inputShape one input example's shape
     * @return the program, optimized
     */
    static Program linearOperation(QuantizedLayer layer, long[] inputShape) {
        NetworkCompiler c = new NetworkCompiler();
        Value x = c.input(layer.name(), 0, inputShape);
        c.output(layer.name(), 0, c.lsqLinear(layer, layer.name(), x));
        c.program.optimize();
        return c.program;
    }

    private Value lsqLayer(Layer layer, String name, Value input) {
        QuantizedLayer q = (QuantizedLayer) layer;
        IActivation fn = q.lsqConf() instanceof AbstractLsqLayer a ? a.effectiveActivation()
                : ((BaseLayer) layer.conf().getLayer()).getActivationFn();
        return activation(name, lsqLinear(q, name, input), fn);
    }

    /** An LSQ layer's linear operation: on codes if it quantizes its inputs, else in float on its dequantized weights. */
    private Value lsqLinear(QuantizedLayer q, String name, Value input) {
        LsqLayerConfig conf = q.lsqConf();
        if (!conf.isQuantizeWeights()) {
            throw new IllegalArgumentException("layer " + name + ": " + conf.describe()
                    + " does not quantize its weights; compile needs weight codes");
        }
        LsqIntegerParams p = q.integerParams();
        Codes inputCodes = conf.isQuantizeInputs() ? Codes.of(conf.getInputQuantizer(), p.inputStep()) : null;
        float[] weightSteps = p.weightSteps().castTo(DataType.FLOAT).data().asFloat();
        int nOut = (int) conf.getNOut();
        float[] bias = p.bias() == null ? null : p.bias().castTo(DataType.FLOAT).data().asFloat();
        INDArray weights;
        float[] scale = null;
        if (inputCodes != null) {
            weights = p.weightCodes().castTo(DataType.INT8).dup('c');
            scale = new float[nOut];
            for (int c = 0; c < nOut; c++) {
                scale[c] = inputCodes.step() * guarded(weightSteps[weightSteps.length == 1 ? 0 : c]);
            }
        } else {
            // float inputs: the layer computes with its dequantized weights, codes * s_w
            weights = p.weightCodes().castTo(DataType.FLOAT).dup('c');
            for (int c = 0; c < nOut; c++) {
                weights.get(outputChannel(conf, weights, c)).muli(guarded(weightSteps[weightSteps.length == 1 ? 0 : c]));
            }
        }
        Value out;
        if (conf instanceof LsqConv2D conv) {
            long[] k = {conv.getKernelSize()[0], conv.getKernelSize()[1]};
            long nIn = ((AbstractLsqLayer) conv).getNIn();
            INDArray kernel;
            if (conf instanceof LsqDepthwiseConv2D dw) {
                long m = dw.getDepthMultiplier();
                // [kH, kW, 1, nIn * m], output channel g * m + j: oneDNN's grouped [G, m, 1, kH, kW]
                kernel = weights.reshape('c', k[0], k[1], nIn, m).permute(2, 3, 0, 1).dup('c').reshape('c', nIn, m, 1, k[0], k[1]);
            } else {
                // [kH, kW, nIn, nOut]: oneDNN's [O, I, kH, kW]
                kernel = weights.permute(3, 2, 0, 1);
            }
            out = convolution(name, input, kernel, scale, bias, inputCodes, nOut, k, conv.getStride(), conv.getPadding(),
                    conv.getDilation(), conv.getConvolutionMode());
        } else {
            out = dense(name, input, weights, scale, bias, inputCodes);
        }
        return out;
    }

    private static float guarded(float step) {
        return (float) Math.max(step, io.github.lsq4j.quant.LsqMath.MIN_STEP);
    }

    /** The index of output channel {@code c} in the layer's weight layout. */
    private static org.nd4j.linalg.indexing.INDArrayIndex[] outputChannel(LsqLayerConfig conf, INDArray w, int c) {
        org.nd4j.linalg.indexing.INDArrayIndex[] idx = new org.nd4j.linalg.indexing.INDArrayIndex[w.rank()];
        for (int d = 0; d < idx.length; d++) {
            idx[d] = d == conf.weightChannelAxis() ? org.nd4j.linalg.indexing.NDArrayIndex.point(c)
                    : org.nd4j.linalg.indexing.NDArrayIndex.all();
        }
        return idx;
    }

    private Value floatConvolution(Layer layer, String name, Value input) {
        ConvolutionLayer conf = (ConvolutionLayer) layer.conf().getLayer();
        INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY).castTo(DataType.FLOAT); // [O, I, kH, kW]
        long[] k = {conf.getKernelSize()[0], conf.getKernelSize()[1]};
        Value out = convolution(name, input, w, null, floatBias(layer, conf.hasBias()), null,
                conf.getNOut(), k, conf.getStride(), conf.getPadding(), conf.getDilation(), conf.getConvolutionMode());
        return activation(name, out, conf.getActivationFn());
    }

    /** DL4J's depthwise kernel {@code [kH, kW, nIn, m]}, output channel {@code c * m + j}: oneDNN's {@code [nIn, m, 1, kH, kW]}. */
    private Value floatDepthwise(Layer layer, String name, Value input) {
        DepthwiseConvolution2D conf = (DepthwiseConvolution2D) layer.conf().getLayer();
        INDArray w = layer.getParam(DepthwiseConvolutionParamInitializer.WEIGHT_KEY).castTo(DataType.FLOAT);
        long[] k = {w.size(0), w.size(1)};
        INDArray kernel = w.permute(2, 3, 0, 1).dup('c').reshape('c', w.size(2), w.size(3), 1, k[0], k[1]);
        Value out = convolution(name, input, kernel, null, floatBias(layer, conf.hasBias()), null, conf.getNOut(), k,
                conf.getStride(), conf.getPadding(), conf.getDilation(), conf.getConvolutionMode());
        return activation(name, out, conf.getActivationFn());
    }

    /**
     * DL4J's separable convolution: a depthwise convolution (kernel {@code [m, nIn, kH, kW]}, output channel
     * {@code c * m + j}, no bias) then a pointwise one ({@code [nOut, nIn * m, 1, 1]}, bias), then the activation.
     */
    private Value floatSeparable(Layer layer, String name, Value input) {
        SeparableConvolution2D conf = (SeparableConvolution2D) layer.conf().getLayer();
        INDArray dw = layer.getParam(SeparableConvolutionParamInitializer.DEPTH_WISE_WEIGHT_KEY).castTo(DataType.FLOAT);
        INDArray pw = layer.getParam(SeparableConvolutionParamInitializer.POINT_WISE_WEIGHT_KEY).castTo(DataType.FLOAT);
        long[] k = {dw.size(2), dw.size(3)};
        INDArray kernel = dw.permute(1, 0, 2, 3).dup('c').reshape('c', dw.size(1), dw.size(0), 1, k[0], k[1]);
        Value depthwise = convolution(name, input, kernel, null, null, null, dw.size(0) * dw.size(1), k,
                conf.getStride(), conf.getPadding(), conf.getDilation(), conf.getConvolutionMode());
        Value out = convolution(name, depthwise, pw, null, floatBias(layer, conf.hasBias()), null, conf.getNOut(),
                new long[] {1, 1}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, ConvolutionMode.Truncate);
        return activation(name, out, conf.getActivationFn());
    }

    private Value floatDense(Layer layer, String name, Value input) {
        org.deeplearning4j.nn.conf.layers.FeedForwardLayer conf = (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) layer.conf().getLayer();
        INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY).castTo(DataType.FLOAT); // [nIn, nOut]
        boolean hasBias = conf instanceof BaseOutputLayer o ? o.hasBias() : ((DenseLayer) conf).hasBias();
        Value out = dense(name, input, w, null, floatBias(layer, hasBias), null);
        return activation(name, out, conf.getActivationFn());
    }

    private static float[] floatBias(Layer layer, boolean hasBias) {
        INDArray b = hasBias ? layer.getParam(DefaultParamInitializer.BIAS_KEY) : null;
        return b == null ? null : b.castTo(DataType.FLOAT).data().asFloat();
    }

    /** @param weights the kernel in oneDNN's dimensions, {@code [O, I, kH, kW]} or grouped {@code [G, O/G, I/G, kH, kW]} */
    private Value convolution(String name, Value input, INDArray weights, float[] scale, float[] bias, Codes inputCodes, long nOut, long[] kernel, int[] stride,
                              int[] padding, int[] dilation, ConvolutionMode mode) {
        Padding zeroPadding = pendingPadding.remove(input);
        Value x = zeroPadding != null ? zeroPadding.input() : input;
        if (!x.isSpatial()) {
            throw new IllegalArgumentException("layer " + name + ": a convolution needs a [N, C, H, W] input, got " + x);
        }
        long[] padTop = new long[2];
        long[] padBottom = new long[2];
        long[] out = new long[2];
        for (int d = 0; d < 2; d++) {
            long in = input.dims[d + 1];
            long effective = (kernel[d] - 1) * dilation[d] + 1;
            if (mode == ConvolutionMode.Same) {
                out[d] = (in + stride[d] - 1) / stride[d];
                long total = Math.max((out[d] - 1) * stride[d] + effective - in, 0);
                padTop[d] = total / 2;
                padBottom[d] = total - padTop[d];
            } else {
                out[d] = (in + 2L * padding[d] - effective) / stride[d] + 1;
                padTop[d] = padding[d];
                padBottom[d] = padding[d];
            }
        }
        LinearOp.Geometry g = new LinearOp.Geometry(new long[] {stride[0], stride[1]},
                new long[] {dilation[0] - 1, dilation[1] - 1}, padTop, padBottom);
        if (zeroPadding != null) {
            g = g.withPadding(zeroPadding.top(), zeroPadding.bottom(), zeroPadding.left(), zeroPadding.right());
        }
        Value y = new Value(name, nOut, out[0], out[1]);
        return program.add(new LinearOp(name, x, y, weights, scale, bias, inputCodes, g)).output;
    }

    /**
     * A dense layer on {@code [N, C]}, or on {@code [N, C, H, W]} flattened in DL4J's order ({@code c * H * W +
     * h * W + w}), which oneDNN's inner product reads from the channels-last tensor when its weights are
     * {@code [O, C, H, W]}.
     *
     * @param weights DL4J's {@code [nIn, nOut]}
     */
    private Value dense(String name, Value input, INDArray weights, float[] scale, float[] bias, Codes inputCodes) {
        if (input.elementsPerExample() != weights.size(0)) {
            throw new IllegalArgumentException("layer " + name + ": " + weights.size(0) + " inputs, but it reads " + input);
        }
        long nOut = weights.size(1);
        INDArray kernel = input.isSpatial()
                ? weights.dup('c').reshape('c', input.dims[0], input.dims[1], input.dims[2], nOut).permute(3, 0, 1, 2)
                : weights.transpose();
        Value y = new Value(name, nOut);
        return program.add(new LinearOp(name, input, y, kernel, scale, bias, inputCodes, null)).output;
    }

    private Value batchNorm(Layer layer, String name, Value input) {
        BatchNormalization conf = (BatchNormalization) layer.conf().getLayer();
        INDArray mean = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN);
        int n = (int) mean.length();
        double[] m = mean.castTo(DataType.DOUBLE).data().asDouble();
        double[] std = new double[n];
        if (conf.isUseLogStd()) {
            // DL4J keeps log10 of the running std, and at inference takes sqrt(std^2 + eps), as the ONNX export does
            double[] log = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD).castTo(DataType.DOUBLE).data().asDouble();
            for (int c = 0; c < n; c++) {
                double runningStd = Math.pow(10, log[c]);
                std[c] = Math.sqrt(runningStd * runningStd + conf.getEps());
            }
        } else {
            double[] var = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR).castTo(DataType.DOUBLE).data().asDouble();
            for (int c = 0; c < n; c++) {
                std[c] = Math.sqrt(var[c] + conf.getEps());
            }
        }
        double[] gamma = conf.isLockGammaBeta() ? filled(n, conf.getGamma())
                : layer.getParam(BatchNormalizationParamInitializer.GAMMA).castTo(DataType.DOUBLE).data().asDouble();
        double[] beta = conf.isLockGammaBeta() ? filled(n, conf.getBeta())
                : layer.getParam(BatchNormalizationParamInitializer.BETA).castTo(DataType.DOUBLE).data().asDouble();
        float[] factor = new float[n];
        float[] shift = new float[n];
        for (int c = 0; c < n; c++) {
            double a = gamma[c] / std[c];
            factor[c] = (float) a;
            shift[c] = (float) (beta[c] - a * m[c]);
        }
        if (input.channels() != n) {
            throw new IllegalArgumentException("layer " + name + ": " + n + " channels, but it reads " + input);
        }
        return program.add(ElementwiseOp.scaleShift(name, input, new Value(name, input.dims), factor, shift)).output;
    }

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /** The activation after a layer: nothing, a softmax op, or an elementwise op (fused into the layer later). */
    private Value activation(String name, Value x, IActivation fn) {
        if (Activations.isIdentity(fn)) {
            return x;
        }
        if (Activations.isSoftmax(fn)) {
            if (x.isSpatial()) {
                throw new IllegalArgumentException("layer " + name + ": softmax over a [N, C, H, W] tensor has no integer kernel here");
            }
            return program.add(new SoftmaxOp(name, x, new Value(name, x.dims))).output;
        }
        ElementwiseOp op = ElementwiseOp.identity(name, fn.toString(), x, new Value(name, x.dims));
        op.postOps().add(new PostOp.Function(Activations.of(fn, name)));
        return program.add(op).output;
    }

    private Value pooling(Layer layer, String name, Value input) {
        SubsamplingLayer conf = (SubsamplingLayer) layer.conf().getLayer();
        if (!input.isSpatial()) {
            throw new IllegalArgumentException("layer " + name + ": pooling needs a [N, C, H, W] input, got " + input);
        }
        if (conf.getDilation()[0] != 1 || conf.getDilation()[1] != 1) {
            throw new IllegalArgumentException("layer " + name + ": dilated pooling has no integer kernel here");
        }
        dnnl.algorithm algorithm = switch (conf.getPoolingType()) {
            case MAX -> dnnl.algorithm.pooling_max;
            case AVG -> conf.isAvgPoolIncludePadInDivisor() ? dnnl.algorithm.pooling_avg_include_padding
                    : dnnl.algorithm.pooling_avg_exclude_padding;
            default -> throw new IllegalArgumentException("layer " + name + ": " + conf.getPoolingType()
                    + " pooling has no integer kernel (compiled: MAX, AVG)");
        };
        int[] k = conf.getKernelSize();
        int[] s = conf.getStride();
        int[] p = conf.getPadding();
        long[] padTop = new long[2];
        long[] padBottom = new long[2];
        long[] out = new long[2];
        for (int d = 0; d < 2; d++) {
            long in = input.dims[d + 1];
            if (conf.getConvolutionMode() == ConvolutionMode.Same) {
                out[d] = (in + s[d] - 1) / s[d];
                long total = Math.max((out[d] - 1) * s[d] + k[d] - in, 0);
                padTop[d] = total / 2;
                padBottom[d] = total - padTop[d];
            } else {
                out[d] = (in + 2L * p[d] - k[d]) / s[d] + 1;
                padTop[d] = p[d];
                padBottom[d] = p[d];
            }
        }
        Value y = new Value(name, input.channels(), out[0], out[1]);
        return program.add(new PoolOp(name, input, y, algorithm, new long[] {k[0], k[1]}, new long[] {s[0], s[1]},
                padTop, padBottom)).output;
    }

    private Value globalPooling(Layer layer, String name, Value input) {
        GlobalPoolingLayer conf = (GlobalPoolingLayer) layer.conf().getLayer();
        if (!input.isSpatial()) {
            throw new IllegalArgumentException("layer " + name + ": global pooling needs a [N, C, H, W] input, got " + input);
        }
        PoolingType type = conf.getPoolingType();
        if (type != PoolingType.AVG && type != PoolingType.MAX) {
            throw new IllegalArgumentException("layer " + name + ": global " + type
                    + " pooling has no integer kernel (compiled: AVG, MAX)");
        }
        Value y = conf.isCollapseDimensions() ? new Value(name, input.channels()) : new Value(name, input.channels(), 1, 1);
        long[] window = {input.dims[1], input.dims[2]};
        return program.add(new PoolOp(name, input, y, type == PoolingType.MAX ? dnnl.algorithm.pooling_max
                : dnnl.algorithm.pooling_avg_exclude_padding, window, window, new long[2], new long[2])).output;
    }

    private Value zeroPadding(Layer layer, String name, Value input) {
        int[] p = ((ZeroPaddingLayer) layer.conf().getLayer()).getPadding(); // top, bottom, left, right
        Value padded = new Value(name, input.channels(), input.dims[1] + p[0] + p[1], input.dims[2] + p[2] + p[3]);
        pendingPadding.put(padded, new Padding(input, p[0], p[1], p[2], p[3]));
        return padded;
    }

    private static void requireSameDims(String name, Value a, Value b) {
        if (!java.util.Arrays.equals(a.dims, b.dims)) {
            throw new IllegalArgumentException("vertex '" + name + "': adds " + a + " and " + b + " of different shapes");
        }
    }
}
