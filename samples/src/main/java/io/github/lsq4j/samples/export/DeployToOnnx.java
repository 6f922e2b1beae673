package io.github.lsq4j.samples.export;

import io.github.lsq4j.export.OnnxFormat;
import io.github.lsq4j.samples.FashionDataOption;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.train.ModelFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The deployment sample: ResNet-8 (or ResNet-20) on Fashion-MNIST trained in float (or read from
 * {@code --fp}), converted to LSQ and briefly fine-tuned at each bit width, exported to ONNX in both
 * forms ({@link OnnxFormat}: QDQ, and integer kernels for ONNX Runtime) and run in ONNX Runtime on the
 * 10,000 test images. Prints lsq4j's and the runtime's accuracy, their agreement, the codes the
 * runtime's rounding changes, and the file sizes; {@code --bench} adds inference speed.
 *
 * <p>{@code mvn -q exec:java -Dexec.mainClass=io.github.lsq4j.samples.export.DeployToOnnx}
 */
@Command(name = "DeployToOnnx", sortOptions = false, usageHelpWidth = 100, description = {
    "Converts, fine-tunes, exports to ONNX and runs in ONNX Runtime a ResNet on Fashion-MNIST.", ""})
public final class DeployToOnnx {
    @Mixin
    HelpOption help;

    @Mixin
    FashionDataOption data;

    @Option(names = "--depth", paramLabel = "D", defaultValue = "8", description = "ResNet depth, 8 or 20 "
            + "(default: ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = "--fp", paramLabel = "ZIP", description = "A trained float ResNet of --depth (e.g. the demo's "
            + "fp.zip); default: train one for an epoch on --fp-images.")
    Path fp;

    @Option(names = "--fp-images", paramLabel = "N", defaultValue = "8000", description = "Images of the float "
            + "epoch (default: ${DEFAULT-VALUE}).")
    int fpImages;

    @Option(names = "--lsq-images", paramLabel = "N", defaultValue = "3200", description = "Images of the LSQ "
            + "fine-tuning epoch per bit width (default: ${DEFAULT-VALUE}).")
    int lsqImages;

    @Option(names = "--bits", split = ",", paramLabel = "B", defaultValue = "8,4,2",
            description = "Bit widths (default: ${DEFAULT-VALUE}).")
    List<Integer> bits;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--bench", description = "Also time inference: DL4J float, ONNX Runtime float and both "
            + "quantized forms, batch 1 and 128, 2 threads.")
    boolean bench;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "lsq4j-onnx", description = "Where the models go "
            + "(default: ${DEFAULT-VALUE}).")
    Path out;

    /**
     * @param args see {@code --help}
     * @throws Exception if reading, training, exporting or running fails
     */
    public static void main(String[] args) throws Exception {
        DeployToOnnx o = SampleCli.parse(new DeployToOnnx(), args);
        FashionMnist.Splits data = o.data.loadOrExit();
        Files.createDirectories(o.out);
        ComputationGraph fp = o.fp != null ? ModelFiles.loadComputationGraph(o.fp)
                : OnnxDeployment.trainFloat(o.depth, data.train(), o.fpImages, o.seed);
        List<OnnxDeployment.Comparison> comparisons = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        for (int b : o.bits) {
            ComputationGraph lsq = OnnxDeployment.fineTune(fp, b, data.train(), o.lsqImages, o.seed);
            for (OnnxFormat format : OnnxFormat.values()) {
                OnnxDeployment.Comparison c = OnnxDeployment.exportAndCompare(lsq, b, format, data.test(), o.out);
                comparisons.add(c);
                files.add(c.file());
            }
        }
        OnnxDeployment.table(comparisons).forEach(System.out::println);
        Path fpOnnx = o.out.resolve("resnet-float.onnx");
        io.github.lsq4j.export.OnnxExporter.export(fp, fpOnnx, 1, 28, 28);
        System.out.printf("float ONNX: %d KB%n", Files.size(fpOnnx) / 1024);
        for (Path f : files) {
            System.out.println(f.getFileName() + " after ONNX Runtime's optimizations: "
                    + OnnxDeployment.optimizedOperators(f, o.out.resolve("optimized-" + f.getFileName())));
        }
        if (o.bench) {
            InferenceBenchmark.run(fp, fpOnnx, files, data.test()).forEach(System.out::println);
        }
    }
}
