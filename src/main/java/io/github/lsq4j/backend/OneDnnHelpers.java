package io.github.lsq4j.backend;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attaches DL4J's own native ("MKLDNN") helpers to the stock {@code ConvolutionLayer},
 * {@code BatchNormalization} and {@code SubsamplingLayer} of a network on the CPU backend, which DL4J
 * 1.0.0-M2.1 never does by itself.
 *
 * <p>Why: the helpers run a layer as one native op ({@code conv2d}, {@code batchnorm}, pooling, with
 * their backward ops), where the built-in Java code composes many array ops. M2.1 decides whether to
 * use them by looking up {@code org.nd4j.nativeblas.Nd4jCpu$Environment}, a class that no longer exists
 * (it moved to {@code org.nd4j.linalg.cpu.nativecpu.bindings}), so the check always fails and even
 * {@code -Dorg.eclipse.deeplearning4j.helpers.disable=false} leaves every helper off. On the demo's
 * ResNet-8 (batch 128, 2 cores, oneDNN build) attaching them made a full-precision training step of
 * the stock network 5x faster and an LSQ step (whose batch norms stay stock layers) 1.5x faster.
 *
 * <p>Only the exact stock classes get a helper (not subclasses such as depthwise or 1D convolutions,
 * which the helpers do not implement), only in float (the helpers' only data type), only on the CPU
 * backend. The helpers compute the same functions up to float rounding (tests compare outputs,
 * gradients and a few training steps with and without them to 2e-4 relative); so a network evaluated
 * with and without helpers can differ on an example whose top two classes are within rounding (1 of
 * 10,000 test images, once, in the demo). Layers are re-created when a network is rebuilt or loaded, so attach
 * again after that; {@link io.github.lsq4j.train.FineTuner} does it before training.
 */
public final class OneDnnHelpers {
    private static final Logger log = LoggerFactory.getLogger(OneDnnHelpers.class);

    /** The stock layer classes (exact classes: subclasses are not covered by the helpers) and their helpers. */
    private static final Map<Class<?>, HelperSlot> SLOTS = slots();

    private OneDnnHelpers() {
    }

    /**
     * Attaches a native helper to every stock convolution, batch-norm and subsampling layer of
     * {@code model} that has none.
     *
     * @param model a MultiLayerNetwork or ComputationGraph, initialized
     * @return the number of layers that got a helper (0 off the CPU backend or for a network not in float)
     */
    public static int attach(Model model) {
        if (!Nd4j.getEnvironment().isCPU() || model.params() == null || model.params().dataType() != DataType.FLOAT) {
            return 0;
        }
        Layer[] layers = model instanceof ComputationGraph cg ? cg.getLayers()
                : model instanceof MultiLayerNetwork mln ? mln.getLayers() : new Layer[0];
        int attached = 0;
        for (Layer layer : layers) {
            if (attachTo(layer)) {
                attached++;
            }
        }
        log.debug("attached native helpers to {} of {} layers", attached, layers.length);
        return attached;
    }

    private static Map<Class<?>, HelperSlot> slots() {
        Map<Class<?>, HelperSlot> slots = new HashMap<>();
        for (HelperSlot slot : new HelperSlot[] {
                HelperSlot.of(ConvolutionLayer.class, MKLDNNConvHelper::new),
                HelperSlot.of(BatchNormalization.class, MKLDNNBatchNormHelper::new),
                HelperSlot.of(SubsamplingLayer.class, MKLDNNSubsamplingHelper::new)}) {
            if (slot != null) {
                slots.put(slot.field().getDeclaringClass(), slot);
            }
        }
        return Map.copyOf(slots);
    }

    /**
     * Attaches a helper if {@code layer} is exactly one of the stock classes of {@link #SLOTS} and has none.
     */
    private static boolean attachTo(Layer layer) {
        HelperSlot slot = SLOTS.get(layer.getClass());
        if (slot == null) {
            return false;
        }
        try {
            if (slot.field().get(layer) != null) {
                return false;
            }
            slot.field().set(layer, slot.helper().apply(DataType.FLOAT));
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("cannot attach a native helper to layer {} ({}): {}", layer.conf().getLayer().getLayerName(),
                    layer.getClass().getSimpleName(), e.toString());
            return false;
        }
    }

    /** A stock layer class's {@code helper} field, made accessible once, and the helper to put there. */
    private record HelperSlot(Field field, Function<DataType, LayerHelper> helper) {
        static HelperSlot of(Class<?> layerClass, Function<DataType, LayerHelper> helper) {
            try {
                Field field = layerClass.getDeclaredField("helper");
                field.setAccessible(true);
                return new HelperSlot(field, helper);
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.warn("DL4J's {} has no accessible helper field; it stays without native helper: {}",
                        layerClass.getSimpleName(), e.toString());
                return null;
            }
        }
    }
}
