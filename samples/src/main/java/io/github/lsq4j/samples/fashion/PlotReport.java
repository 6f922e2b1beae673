package io.github.lsq4j.samples.fashion;

import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.train.EpochResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Plots one or more {@code report.json} files of {@link FashionMnistDemo} (e.g. one per seed) without
 * training anything and without ND4J:
 * <ul>
 *   <li>{@code accuracy-vs-bits.png}: test top-1 against bit width, each report's points and their
 *       mean, with the PyTorch reference ({@link DemoPlots#PYTORCH_REFERENCE}) when every report is a
 *       run of the recipe it belongs to (ResNet-8, unmodified {@code short} recipe) and
 *       {@code --no-reference} is not given;</li>
 *   <li>{@code training-curves.png} and {@code training-loss.png}: test top-1 and mean training loss
 *       per epoch of each stage, averaged over the reports that have that stage and epoch.</li>
 * </ul>
 *
 * <p>Usage: {@code PlotReport --out DIR [--no-reference] report.json [report.json ...]} ({@code --help}).
 */
@Command(name = "PlotReport", sortOptions = false, usageHelpWidth = 100,
        description = {"Plots report.json files of FashionMnistDemo (e.g. one per seed): accuracy against bit "
                + "width, training curves and loss. Does not train and does not load ND4J.", ""})
public final class PlotReport {
    private static final Logger log = LoggerFactory.getLogger(PlotReport.class);

    @Mixin
    HelpOption help;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Where the PNG files go.")
    Path out;

    @Option(names = "--no-reference", description = "Leave the PyTorch reference out of the accuracy plot.")
    boolean noReference;

    @Parameters(paramLabel = "report.json", arity = "1..*", description = "Reports of the demo.")
    List<Path> reports;

    private PlotReport() {
    }

    /**
     * @param args see the class documentation
     * @throws IOException if a report cannot be read or a plot cannot be written
     */
    public static void main(String[] args) throws IOException {
        PlotReport opts = SampleCli.parse(new PlotReport(), args);
        Path out = opts.out;
        boolean reference = !opts.noReference;
        List<Path> reports = opts.reports;

        ObjectMapper json = new ObjectMapper();
        Map<String, Map<String, Double>> top1ByRun = new LinkedHashMap<>();
        Map<String, Map<Integer, List<EpochResult>>> epochsByStage = new LinkedHashMap<>();
        for (Path file : reports) {
            JsonNode report = json.readTree(file.toFile());
            JsonNode results = report.path("results");
            if (!results.isObject() || results.isEmpty()) {
                throw new IOException(file + ": no \"results\" object");
            }
            Map<String, Double> top1 = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = results.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> stage = it.next();
                top1.put(stage.getKey(), 100 * DemoReports.number(stage.getValue(), "top1", file));
                for (JsonNode e : stage.getValue().path("epochs")) {
                    EpochResult epoch = DemoReports.fromJson(e, file);
                    epochsByStage.computeIfAbsent(stage.getKey(), s -> new TreeMap<>())
                            .computeIfAbsent(epoch.epoch(), n -> new ArrayList<>()).add(epoch);
                }
            }
            if (reference && DemoPlots.pytorchReferenceFor(report.path("network").asText(),
                    report.path("recipe").asText(), report.path("trainImages").asInt(),
                    report.path("fpEpochs").asInt(DemoOptions.SHORT.fpEpochs()),
                    report.path("lsqEpochs").asInt(DemoOptions.SHORT.lsqEpochs())).isEmpty()) {
                // reports written before fpEpochs/lsqEpochs were recorded ran the recipe's epochs
                log.info("{} is not a ResNet-8 run of the 'short' recipe: the PyTorch reference is left out", file);
                reference = false;
            }
            String run = report.hasNonNull("seed") ? "seed " + report.get("seed").asText() : file.toString();
            if (top1ByRun.containsKey(run)) {
                run = run + " (" + file + ")";
            }
            top1ByRun.put(run, top1);
            log.info("{}: {}", run, top1.entrySet().stream()
                    .map(t -> String.format(Locale.ROOT, "%s %.2f %%", t.getKey(), t.getValue()))
                    .collect(Collectors.joining(", ")));
        }

        Map<String, List<EpochResult>> history = new LinkedHashMap<>();
        epochsByStage.forEach((stage, epochs) -> history.put(stage,
                epochs.values().stream().map(PlotReport::mean).toList()));
        DemoPlots.accuracyVsBitsOfRuns(top1ByRun, reference ? DemoPlots.PYTORCH_REFERENCE : Map.of(),
                out.resolve("accuracy-vs-bits.png"));
        DemoPlots.trainingCurves(history, out.resolve("training-curves.png"));
        DemoPlots.trainingLoss(history, out.resolve("training-loss.png"));
    }

    /** The mean of the same epoch over several reports. */
    private static EpochResult mean(List<EpochResult> runs) {
        return new EpochResult(runs.get(0).epoch(),
                runs.stream().mapToDouble(EpochResult::meanLoss).average().orElseThrow(),
                runs.stream().mapToDouble(EpochResult::testAccuracy).average().orElseThrow(),
                runs.stream().mapToDouble(EpochResult::seconds).average().orElseThrow(),
                runs.stream().mapToDouble(EpochResult::examplesPerSecond).average().orElseThrow());
    }
}
