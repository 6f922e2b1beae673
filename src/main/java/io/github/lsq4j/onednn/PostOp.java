package io.github.lsq4j.onednn;

/** What a fused op applies to its result, in order, before writing it: an elementwise function, or a residual sum. */
sealed interface PostOp {

    /** {@code y = f(y)}. */
    record Function(Eltwise function) implements PostOp {
    }

    /** {@code y = y + residual}, a float tensor of the output's shape (a ResNet block's shortcut). */
    record Sum(Value residual) implements PostOp {
    }
}
