package io.github.lsq4j.onednn;

import io.github.lsq4j.layers.IntegerKernel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A trained LSQ network compiled to oneDNN's int8 kernels, for inference: an immutable predictor that holds
 * no reference to the network it came from.
 *
 * <p>What it computes: each LSQ layer sums input codes times weight codes in INT32 and rescales once,
 * {@code sum * s_x * s_w[c] + bias[c]}, exactly as the trained layer's arithmetic; a batch norm after a
 * layer is folded into that per-channel scale and bias; activations, residual sums and the next layer's
 * quantizer (scale, clamp, round) run inside the layer's primitive as post-ops, so a tensor that only
 * quantized layers read never exists in float. Tensors are channels-last. Stock float layers (convolution,
 * dense) run as oneDNN float primitives; pooling, global pooling and softmax are oneDNN primitives too. What
 * differs from the network's own float-path output is float rounding, and at a quantizer boundary oneDNN's
 * rounding of ties to even where lsq4j rounds them away from zero. An input holding NaN or infinite values is
 * refused, as the float path refuses it.
 *
 * <p>Compiles: MultiLayerNetworks and ComputationGraphs made of {@code LsqConv2D}, {@code LsqDepthwiseConv2D},
 * {@code LsqDense}, {@code LsqOutputLayer}, {@code ConvolutionLayer}, {@code DenseLayer}, {@code OutputLayer},
 * {@code BatchNormalization}, {@code ActivationLayer}, {@code LossLayer}, {@code DropoutLayer},
 * {@code SubsamplingLayer} (max, average), {@code GlobalPoolingLayer} (average, max), {@code ZeroPaddingLayer}
 * before a convolution, {@code DepthwiseConvolution2D}, {@code SeparableConvolution2D}, {@code ElementWiseVertex} (add),
 * {@code MergeVertex}, {@code ScaleVertex}, the CNN-to-dense preprocessor and the dense-to-CNN one on an input of its shape. Anything else is
 * refused by {@link #compile}, naming the layer and its kind.
 *
 * <p>Threads and memory: one call of {@link #output} runs on oneDNN's OpenMP threads ({@code OMP_NUM_THREADS},
 * by default one per core). Calls are serialized: one network runs one batch at a time; for concurrent
 * requests compile one network per worker. Per batch size the network keeps a plan (primitives with their
 * packed weights, and activation buffers shared between layers whose lifetimes do not overlap): the
 * {@value #PLANS} most recent sizes. Native memory belongs to the network; {@link #close} frees it, and a
 * long run of calls allocates none after the first call of each batch size.
 */
public final class IntegerNetwork implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IntegerNetwork.class);
    /** Batch sizes whose plans are kept. */
    private static final int PLANS = 4;

    private final Program program;
    private final List<long[]> inputShapes;
    private final Map<Long, Plan> plans = new LinkedHashMap<>(PLANS, 0.75f, true);
    private boolean closed;

    IntegerNetwork(Program program, List<long[]> inputShapes) {
        this.program = program;
        this.inputShapes = inputShapes;
    }

    /**
     * Compiles a network with one input.
     *
     * @param net        a trained MultiLayerNetwork or ComputationGraph (LSQ input steps initialized: trained or
     *                   calibrated)
     * @param inputShape the shape of one example, without the batch axis: {@code [C, H, W]} or {@code [F]}
     * @return the compiled network
     * @throws IllegalArgumentException naming the layer and its kind, if a layer has no integer kernel here
     * @throws IllegalStateException    if oneDNN is not available, or an LSQ layer's input step is not initialized
     */
    public static IntegerNetwork compile(Model net, long... inputShape) {
        return compile(net, List.of(inputShape.clone()));
    }

    /**
     * Compiles a network with several inputs (a ComputationGraph), one shape per input in the configuration's
     * order.
     *
     * @param net         the network
     * @param inputShapes the shape of one example of each input, without the batch axis
     * @return the compiled network
     */
    public static IntegerNetwork compile(Model net, List<long[]> inputShapes) {
        OneDnn.requireAvailable("IntegerNetwork");
        Program program = NetworkCompiler.compile(net, inputShapes);
        log.info("compiled {} to {} oneDNN ops ({})", net.getClass().getSimpleName(), program.ops.size(),
                OneDnn.isaDescription());
        log.debug("compiled program:\n{}", program);
        return new IntegerNetwork(program, List.copyOf(inputShapes));
    }

    /**
     * The output of a network with one input and one output.
     *
     * @param input {@code [N, C, H, W]} or {@code [N, F]}, of the compiled shape
     * @return the network output, a new float array
     */
    public INDArray output(INDArray input) {
        INDArray[] out = output(new INDArray[] {input});
        if (out.length != 1) {
            throw new IllegalStateException("the network has " + out.length + " outputs; use output(INDArray[])");
        }
        return out[0];
    }

    /**
     * The outputs of the network.
     *
     * @param inputs one array per network input, all of the same batch size
     * @return one new float array per network output
     */
    public INDArray[] output(INDArray[] inputs) {
        try {
            return run(inputs, new INDArray[program.outputs.size()]);
        } catch (IntegerKernel.NonFiniteInputException e) {
            throw new IllegalArgumentException("an input holds NaN or infinite values (" + e.getMessage()
                    + "); its quantizer would clamp them into range and hide them", e);
        }
    }

    /**
     * @param outputs per output, an array to write it into (float, C order, from element 0), or null for a new one
     */
    synchronized INDArray[] run(INDArray[] inputs, INDArray[] outputs) {
        if (closed) {
            throw new IllegalStateException("the IntegerNetwork is closed");
        }
        INDArray[] prepared = checked(inputs);
        long batch = prepared[0].size(0);
        Plan plan = plans.get(batch);
        if (plan == null) {
            plan = new Plan(program.ops, batch);
            plans.put(batch, plan);
            evictOldPlans();
        }
        return plan.run(prepared, outputs);
    }

    /** The inputs as the plan reads them: float, C order, from element 0, of the compiled shapes. */
    private INDArray[] checked(INDArray[] inputs) {
        if (inputs.length != inputShapes.size()) {
            throw new IllegalArgumentException("the network has " + inputShapes.size() + " inputs, got " + inputs.length);
        }
        INDArray[] out = new INDArray[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            INDArray x = inputs[i];
            long[] expected = inputShapes.get(i);
            long[] perExample = Arrays.copyOfRange(x.shape(), 1, x.rank());
            if (!Arrays.equals(perExample, expected) || x.size(0) != inputs[0].size(0)) {
                throw new IllegalArgumentException("input " + i + ": expected [N, " + Arrays.toString(expected)
                        .replaceAll("[\\[\\]]", "") + "] (N as for input 0), got " + Arrays.toString(x.shape()));
            }
            out[i] = x.dataType() == DataType.FLOAT && x.ordering() == 'c' && !x.isView() && x.offset() == 0
                    ? x : x.castTo(DataType.FLOAT).dup('c');
        }
        return out;
    }

    private void evictOldPlans() {
        Iterator<Plan> oldest = plans.values().iterator();
        while (plans.size() > PLANS) {
            oldest.next().close();
            oldest.remove();
        }
    }

    /** @return the compiled ops, one per line: the layer, what runs, and the tensor it writes */
    @Override
    public String toString() {
        return "IntegerNetwork (" + OneDnn.isaDescription() + ")\n" + program;
    }

    /** @return how many oneDNN ops one call runs (after fusion) */
    public int opCount() {
        return program.ops.size();
    }

    /** Frees the native memory of every plan. The network cannot run after this. */
    @Override
    public synchronized void close() {
        closed = true;
        plans.values().forEach(Plan::close);
        plans.clear();
    }

    /** For the tests: the batch sizes whose plans are kept. */
    List<Long> plannedBatchSizes() {
        return new ArrayList<>(plans.keySet());
    }
}
