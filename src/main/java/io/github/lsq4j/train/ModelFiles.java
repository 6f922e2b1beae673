package io.github.lsq4j.train;

import java.io.File;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Saves and loads networks (DL4J's ModelSerializer format, with updater state, so training can go on)
 * without ever leaving a half-written file: a save writes a temporary file next to the target and
 * moves it into place atomically, so the target holds the old model or the new one, never a mix.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * @param model a MultiLayerNetwork or ComputationGraph
     * @param file  where to save it; its directory is created if needed
     * @throws IOException if writing fails (the previous file, if any, is left intact)
     */
    public static void save(Model model, Path file) throws IOException {
        writeAtomically(file, tmp -> ModelSerializer.writeModel(model, tmp.toFile(), true));
    }

    /** Writes a file's content to a given path. */
    @FunctionalInterface
    public interface FileWriter {
        /**
         * @param path where to write
         * @throws IOException if writing fails
         */
        void write(Path path) throws IOException;
    }

    /**
     * Writes a file atomically: into a temporary file next to it, then moved into place, so the target
     * holds the old content or the new one, never a mix.
     *
     * @param file   the file; its directory is created if needed
     * @param writer writes the content to the path it is given
     * @throws IOException if writing fails (the previous file, if any, is left intact)
     */
    public static void writeAtomically(Path file, FileWriter writer) throws IOException {
        Path target = file.toAbsolutePath();
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
        try {
            writer.write(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * @param file a file written by {@link #save} (or ModelSerializer)
     * @return the network, with its updater state
     * @throws IOException naming the file if it is missing, or not a MultiLayerNetwork, or damaged
     */
    public static MultiLayerNetwork loadMultiLayerNetwork(Path file) throws IOException {
        return load(file, "MultiLayerNetwork", f -> ModelSerializer.restoreMultiLayerNetwork(f, true));
    }

    /**
     * @param file a file written by {@link #save} (or ModelSerializer)
     * @return the network, with its updater state
     * @throws IOException naming the file if it is missing, or not a ComputationGraph, or damaged
     */
    public static ComputationGraph loadComputationGraph(Path file) throws IOException {
        return load(file, "ComputationGraph", f -> ModelSerializer.restoreComputationGraph(f, true));
    }

    /** A ModelSerializer restore method. */
    private interface Restorer<T> {
        T restore(File file) throws IOException;
    }

    private static <T> T load(Path file, String kind, Restorer<T> restorer) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "model file not found");
        }
        try {
            return restorer.restore(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": not a readable " + kind + " file (" + e.getMessage() + ")", e);
        }
    }
}
