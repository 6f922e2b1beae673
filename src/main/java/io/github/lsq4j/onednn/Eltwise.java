package io.github.lsq4j.onednn;

import org.bytedeco.dnnl.global.dnnl;

/**
 * One elementwise function as oneDNN computes it, {@code f(x; alpha, beta)}: an activation, or the scaling
 * and clamp of a quantizer.
 *
 * @param algorithm oneDNN's {@code dnnl::algorithm} value (e.g. {@code eltwise_relu})
 * @param alpha     its first parameter
 * @param beta      its second parameter
 */
record Eltwise(int algorithm, float alpha, float beta) {

    static Eltwise relu(float negativeSlope) {
        return new Eltwise(dnnl.dnnl_eltwise_relu, negativeSlope, 0);
    }

    static Eltwise clip(float lo, float hi) {
        return new Eltwise(dnnl.dnnl_eltwise_clip, lo, hi);
    }

    static Eltwise linear(float scale) {
        return new Eltwise(dnnl.dnnl_eltwise_linear, scale, 0);
    }

    static Eltwise of(int algorithm, float alpha, float beta) {
        return new Eltwise(algorithm, alpha, beta);
    }

    /** The quantizer of {@code codes} up to its rounding, which the conversion to bytes does: scale, then clamp. */
    static Eltwise[] quantizer(Codes codes) {
        return new Eltwise[] {linear(codes.reciprocal()), clip(-codes.qn(), codes.qp())};
    }
}
