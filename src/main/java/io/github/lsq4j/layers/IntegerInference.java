package io.github.lsq4j.layers;

import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether LSQ layers infer on integer kernels. With an {@link IntegerKernelProvider} available (oneDNN's, when
 * {@code org.bytedeco:dnnl} is on the class path), every {@link LsqConv2D}, {@link LsqDepthwiseConv2D},
 * {@link LsqDense} and {@link LsqOutputLayer} that quantizes its inputs and weights runs its inference passes
 * on it: input codes times weight codes, summed in INT32, rescaled in float. Training passes, and inference
 * before the input step is initialized, keep the float path. One log line says, the first time a layer asks,
 * which path runs.
 *
 * <p>On by default; {@link #setEnabled}{@code (false)} or {@code -Dlsq4j.integerInference=false} selects the
 * float path (to compare the two, for example).
 */
public final class IntegerInference {
    private static final Logger log = LoggerFactory.getLogger(IntegerInference.class);
    private static volatile boolean enabled = !"false".equalsIgnoreCase(System.getProperty("lsq4j.integerInference"));

    private IntegerInference() {
    }

    /** @param on whether LSQ layers infer on integer kernels when a provider is available */
    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /** @return whether integer kernels are enabled (they run only if {@link #isAvailable()} too) */
    public static boolean isEnabled() {
        return enabled;
    }

    /** @return whether an integer kernel provider is available */
    public static boolean isAvailable() {
        return Provider.INSTANCE != null;
    }

    /** @return the provider that runs, or null when LSQ layers infer on the float path */
    static IntegerKernelProvider active() {
        return enabled ? Provider.INSTANCE : null;
    }

    /** The first available provider, found once. */
    private static final class Provider {
        static final IntegerKernelProvider INSTANCE = find();

        private static IntegerKernelProvider find() {
            for (IntegerKernelProvider p : ServiceLoader.load(IntegerKernelProvider.class,
                    IntegerInference.class.getClassLoader())) {
                if (p.isAvailable()) {
                    log.info("LSQ layers infer on integer kernels: {}", p.describe());
                    return p;
                }
            }
            log.info("LSQ layers infer on the float path: no integer kernels (add org.bytedeco:dnnl-platform for oneDNN's)");
            return null;
        }
    }
}
