package io.github.lsq4j.onednn;

import java.util.List;

/** An op that applies post-ops to its result, so that the elementwise layers after it can run inside it. */
interface Fusable {
    /** @return the post-ops, in order; the compiler appends to it */
    List<PostOp> postOps();
}
