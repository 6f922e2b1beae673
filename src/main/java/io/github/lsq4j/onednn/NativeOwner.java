package io.github.lsq4j.onednn;

import java.util.ArrayDeque;
import java.util.Deque;
import org.bytedeco.javacpp.Pointer;

/**
 * The one owner of a set of native objects (oneDNN descriptors, primitives, memories, JavaCPP buffers):
 * {@link #own} registers an object, {@link #close} frees them all, newest first, once.
 */
final class NativeOwner implements AutoCloseable {
    private final Deque<Pointer> owned = new ArrayDeque<>();
    private boolean closed;

    /**
     * @param pointer a native object that nothing else frees
     * @return {@code pointer}
     */
    <T extends Pointer> T own(T pointer) {
        if (closed) {
            pointer.close();
            throw new IllegalStateException("already closed");
        }
        owned.push(pointer);
        return pointer;
    }

    /** @return whether {@link #close} has run */
    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!owned.isEmpty()) {
            owned.pop().close();
        }
    }
}
