package io.github.lsq4j.samples;

import io.github.lsq4j.samples.data.FashionMnist;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --data DIR} option of the samples that read Fashion-MNIST, a picocli mixin:
 * {@code @Mixin FashionDataOption data;}. Defaults to where Debian's {@code dataset-fashion-mnist} installs
 * the four IDX files.
 */
public final class FashionDataOption {
    @Option(names = "--data", paramLabel = "DIR", description = "Folder with the four Fashion-MNIST IDX files "
            + "(default: ${DEFAULT-VALUE}, where Debian's dataset-fashion-mnist installs them).")
    private Path dir = FashionMnist.DEFAULT_DIR;

    /** @return the folder given with {@code --data}, or the default */
    public Path dir() {
        return dir;
    }

    /**
     * Reads the training and test splits, or ends the program saying how to get the data set.
     *
     * @return the two splits
     * @see FashionMnist#loadOrExit(Path)
     */
    public FashionMnist.Splits loadOrExit() {
        return FashionMnist.loadOrExit(dir);
    }
}
