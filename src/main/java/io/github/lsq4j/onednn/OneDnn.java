package io.github.lsq4j.onednn;

import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether oneDNN's int8 kernels can run here, and the CPU engine and stream that every lsq4j primitive uses.
 *
 * <p>oneDNN comes from the JavaCPP presets {@code org.bytedeco:dnnl}, an optional dependency of lsq4j. Without
 * them on the class path (or without natives for this platform), {@link #isAvailable()} is false, lsq4j's
 * layers infer on their float path and {@link IntegerNetwork#compile} refuses, saying why. Nothing here
 * touches a oneDNN class before {@link #isAvailable()} has loaded them.
 *
 * <p>oneDNN runs its primitives on its own OpenMP threads: as many as {@code OMP_NUM_THREADS}, by default
 * one per core. Its int8 convolutions are exact (INT32 sums) on CPUs with AVX-512 VNNI or AMX; on older
 * x86 CPUs (AVX2, AVX-512 without VNNI) oneDNN halves 8-bit weights to avoid an overflow in its
 * instructions, which rounds odd 8-bit weight codes; see {@link #isaDescription()}.
 */
public final class OneDnn {
    private static final Logger log = LoggerFactory.getLogger(OneDnn.class);

    private OneDnn() {
    }

    /** @return whether oneDNN's classes and natives load and a CPU engine starts (checked once) */
    public static boolean isAvailable() {
        return Probe.ERROR == null;
    }

    /** @return why oneDNN is not available, or null if it is */
    public static String unavailableReason() {
        return Probe.ERROR;
    }

    /** @return oneDNN's version and the instruction set its kernels use, e.g. "oneDNN 2.5.2 (avx512_core_vnni)" */
    public static String isaDescription() {
        requireAvailable("oneDNN");
        return Runtime.DESCRIPTION;
    }

    /**
     * @param what what needs oneDNN, for the message
     * @throws IllegalStateException if oneDNN is not available, saying why and which dependency to add
     */
    static void requireAvailable(String what) {
        if (!isAvailable()) {
            throw new IllegalStateException(what + " needs oneDNN, which is not available: " + Probe.ERROR
                    + ". Add org.bytedeco:dnnl-platform:2.5.2-1.5.7 to the dependencies.");
        }
    }

    static engine engine() {
        return Runtime.ENGINE;
    }

    static stream stream() {
        return Runtime.STREAM;
    }

    /** Loads oneDNN once; its only state is why it failed. */
    private static final class Probe {
        static final String ERROR = probe();

        private static String probe() {
            try {
                Class.forName("org.bytedeco.dnnl.global.dnnl");
            } catch (ClassNotFoundException | LinkageError e) {
                return "org.bytedeco:dnnl is not on the class path";
            }
            try {
                String description = Runtime.DESCRIPTION;
                log.debug("oneDNN loaded: {}", description);
                return null;
            } catch (Throwable e) { // natives missing for this platform, or a JavaCPP clash: report, never fail
                Throwable cause = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
                return "oneDNN's natives did not load (" + cause + ")";
            }
        }
    }

    /** The engine and stream; initialized only once {@link Probe} has found the classes. */
    private static final class Runtime {
        static final engine ENGINE = new engine(engine.kind.cpu, 0);
        static final stream STREAM = new stream(ENGINE);
        static final String DESCRIPTION = describe();

        private static String describe() {
            dnnl_version_t v = dnnl.dnnl_version();
            return "oneDNN " + v.major() + "." + v.minor() + "." + v.patch() + " (" + dnnl.get_effective_cpu_isa() + ")";
        }
    }
}
