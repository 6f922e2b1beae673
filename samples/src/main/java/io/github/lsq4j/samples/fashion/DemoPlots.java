package io.github.lsq4j.samples.fashion;

import io.github.lsq4j.train.EpochResult;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.geom.Ellipse2D;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.statistics.HistogramType;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PNG plots of the Fashion-MNIST demo, drawn headless with JFreeChart, {@value #WIDTH}x{@value #HEIGHT}
 * pixels. Every file is written to a temporary file in the target directory first and then moved
 * over the target atomically, so a reader never sees a half-written PNG.
 *
 * <p>Precisions are named as in {@code report.json}: {@code "fp"} for full precision and
 * {@code "<bits>-bit"} (e.g. {@code "4-bit"}) for LSQ. This class does not use ND4J.
 */
public final class DemoPlots {
    /** Width of every plot, in pixels. */
    public static final int WIDTH = 800;
    /** Height of every plot, in pixels. */
    public static final int HEIGHT = 500;
    /** Number of bins of {@link #weightHistogram}. */
    public static final int HISTOGRAM_BINS = 100;
    /** Name of the reference series of {@link #accuracyVsBits(Map, Map, Path)}. */
    public static final String REFERENCE_NAME = "PyTorch reference, ResNet-8, 'short' recipe (seeds 1-3)";
    /**
     * Test top-1 (%) of the PyTorch reference implementation ({@code samples/reference/lsq_ref.py}), mean of
     * seeds 1, 2 and 3 trained on the CPU of samples/BENCHMARKS.md, by precision: ResNet-8 trained with the
     * spec's recipe, which the demo runs with {@code --recipe short} (60,000 images, 5 full-precision and 3
     * LSQ epochs). Compare only runs of that recipe with it ({@link #pytorchReferenceFor}).
     */
    public static final Map<String, Double> PYTORCH_REFERENCE = Map.of(
            "fp", 90.24, "8-bit", 90.07, "4-bit", 90.25, "3-bit", 89.81, "2-bit", 88.88);

    private static final Logger log = LoggerFactory.getLogger(DemoPlots.class);
    private static final String FP = "fp";
    private static final Pattern BITS = Pattern.compile("(\\d{1,2})-bit");
    private static final String SINGLE_RUN_NAME = "lsq4j";
    /** Tableau 10: distinguishable on white, in this order. */
    private static final Color[] PALETTE = {
        new Color(0x4E79A7), new Color(0xF28E2B), new Color(0xE15759), new Color(0x76B7B2), new Color(0x59A14F),
        new Color(0xEDC948), new Color(0xB07AA1), new Color(0xFF9DA7), new Color(0x9C755F), new Color(0xBAB0AC)};
    private static final Color REFERENCE_COLOR = new Color(0x555555);
    private static final BasicStroke LINE = new BasicStroke(2f);
    private static final BasicStroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {8f, 6f}, 0f);

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private DemoPlots() {
    }

    /**
     * The reference to draw beside a run: {@link #PYTORCH_REFERENCE} for ResNet-8 trained with the
     * unmodified {@code short} recipe, nothing for any other run (the quick recipe reaches about 75%,
     * and beside the full recipe's 90% the plot would read as a gap of 15 points).
     *
     * @param network     e.g. {@code "ResNet-8"}
     * @param recipe      the demo's recipe, {@code "quick"} or {@code "short"}
     * @param trainImages training images per epoch
     * @param fpEpochs    full-precision epochs
     * @param lsqEpochs   LSQ epochs per bit width
     * @return the reference top-1 in percent by precision, or an empty map
     */
    public static Map<String, Double> pytorchReferenceFor(String network, String recipe, int trainImages,
                                                          int fpEpochs, int lsqEpochs) {
        FashionMnistDemo.Schedule reference = DemoOptions.SHORT;
        boolean same = "ResNet-8".equals(network) && reference.name().equals(recipe)
                && trainImages == reference.trainImages() && fpEpochs == reference.fpEpochs()
                && lsqEpochs == reference.lsqEpochs();
        return same ? PYTORCH_REFERENCE : Map.of();
    }

    /**
     * Test top-1 accuracy against bit width, one line.
     *
     * @param top1ByPrecision test top-1 in percent, by precision ({@code "fp"}, {@code "8-bit"}, ...)
     * @param png             the PNG to write
     * @throws IOException if the file cannot be written
     */
    public static void accuracyVsBits(Map<String, Double> top1ByPrecision, Path png) throws IOException {
        accuracyVsBitsOfRuns(Map.of(SINGLE_RUN_NAME, top1ByPrecision), Map.of(), png);
    }

    /**
     * Test top-1 accuracy against bit width, with a reference drawn as a second, dashed series named
     * {@value #REFERENCE_NAME}.
     *
     * @param top1ByPrecision test top-1 in percent, by precision ({@code "fp"}, {@code "8-bit"}, ...)
     * @param reference       the reference top-1 in percent by precision, e.g. {@link #PYTORCH_REFERENCE}
     * @param png             the PNG to write
     * @throws IOException if the file cannot be written
     */
    public static void accuracyVsBits(Map<String, Double> top1ByPrecision, Map<String, Double> reference, Path png)
            throws IOException {
        accuracyVsBitsOfRuns(Map.of(SINGLE_RUN_NAME, top1ByPrecision), reference, png);
    }

    /**
     * Test top-1 accuracy against bit width over several runs (e.g. seeds). One run is drawn as a line;
     * several are drawn as one marker series per run plus a line through their mean per precision
     * (over the runs that have that precision). A non-empty reference is drawn as a dashed series
     * named {@value #REFERENCE_NAME}.
     *
     * @param top1ByRun test top-1 in percent by precision ({@code "fp"}, {@code "8-bit"}, ...), by run
     *                  name (e.g. {@code "seed 1"}), in legend order; not empty
     * @param reference the reference top-1 in percent by precision, or an empty map for none
     * @param png       the PNG to write
     * @throws IOException if the file cannot be written
     */
    public static void accuracyVsBitsOfRuns(Map<String, Map<String, Double>> top1ByRun, Map<String, Double> reference,
                                            Path png) throws IOException {
        if (top1ByRun.isEmpty()) {
            throw new IllegalArgumentException("no runs to plot");
        }
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        String main;
        if (top1ByRun.size() == 1) {
            Map.Entry<String, Map<String, Double>> run = top1ByRun.entrySet().iterator().next();
            main = run.getKey();
            series.put(main, run.getValue());
        } else {
            main = "lsq4j mean (" + top1ByRun.size() + " runs)";
            series.put(main, mean(top1ByRun.values()));
            series.putAll(top1ByRun);
        }
        if (!reference.isEmpty()) {
            series.put(REFERENCE_NAME, reference);
        }

        TreeSet<String> precisions = new TreeSet<>(Comparator.comparingInt(DemoPlots::bitsOrder));
        series.values().forEach(s -> precisions.addAll(s.keySet()));
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (String precision : precisions) {
            // categories outermost, so the x axis follows the bit width whatever the series hold
            series.forEach((name, top1) -> data.addValue(top1.get(precision), name, category(precision)));
        }

        JFreeChart chart = ChartFactory.createLineChart("Fashion-MNIST test top-1 vs bit width",
                "bit width of weights and activations (FP = full precision)", "test top-1 (%)", data,
                PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        style(chart);
        NumberAxis top1Axis = (NumberAxis) plot.getRangeAxis();
        top1Axis.setAutoRangeIncludesZero(false);
        top1Axis.setUpperMargin(0.08); // room for the value labels
        LineAndShapeRenderer renderer = (LineAndShapeRenderer) plot.getRenderer();
        renderer.setDefaultShapesVisible(true);
        int i = 0;
        for (String name : series.keySet()) {
            if (name.equals(REFERENCE_NAME)) {
                renderer.setSeriesPaint(i, REFERENCE_COLOR);
                renderer.setSeriesStroke(i, DASHED);
                renderer.setSeriesShape(i, new Ellipse2D.Double(-3.5, -3.5, 7, 7));
            } else if (name.equals(main)) {
                renderer.setSeriesPaint(i, PALETTE[0]);
                renderer.setSeriesStroke(i, LINE);
                renderer.setSeriesItemLabelGenerator(i,
                        new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("0.00")));
                renderer.setSeriesItemLabelsVisible(i, true);
            } else {
                renderer.setSeriesPaint(i, PALETTE[1 + (i - 1) % (PALETTE.length - 1)]);
                renderer.setSeriesLinesVisible(i, false);
            }
            i++;
        }
        write(chart, png);
    }

    /**
     * Test top-1 accuracy per epoch, one series per training stage.
     *
     * @param historyByStage the epochs of each stage ({@code "fp"}, {@code "8-bit"}, ...), in legend order;
     *                       epochs without test accuracy (NaN) are left out
     * @param png            the PNG to write
     * @throws IOException if the file cannot be written
     */
    public static void trainingCurves(Map<String, List<EpochResult>> historyByStage, Path png) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        historyByStage.forEach((stage, history) -> {
            XYSeries s = new XYSeries(stageName(stage));
            history.stream().filter(e -> !Double.isNaN(e.testAccuracy()))
                    .forEach(e -> s.add(e.epoch(), 100 * e.testAccuracy()));
            data.addSeries(s);
        });
        write(epochChart("Fashion-MNIST test top-1 per epoch", "test top-1 (%)", data), png);
    }

    /**
     * Mean training loss per epoch, one series per training stage.
     *
     * @param historyByStage the epochs of each stage ({@code "fp"}, {@code "8-bit"}, ...), in legend order
     * @param png            the PNG to write
     * @throws IOException if the file cannot be written
     */
    public static void trainingLoss(Map<String, List<EpochResult>> historyByStage, Path png) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        historyByStage.forEach((stage, history) -> {
            XYSeries s = new XYSeries(stageName(stage));
            history.forEach(e -> s.add(e.epoch(), e.meanLoss()));
            data.addSeries(s);
        });
        write(epochChart("Fashion-MNIST mean training loss per epoch", "mean training loss", data), png);
    }

    /**
     * Histogram of one layer's weights before (full precision) and after LSQ fine-tuning (the
     * de-quantized weights, codes times step), overlaid with transparency, {@value #HISTOGRAM_BINS}
     * bins over the range of both.
     *
     * @param layerName the layer's name, for the title
     * @param before    the full-precision weights, not empty
     * @param after     the de-quantized weights after fine-tuning, not empty
     * @param png       the PNG to write
     * @throws IOException if the file cannot be written
     */
    public static void weightHistogram(String layerName, double[] before, double[] after, Path png)
            throws IOException {
        if (before.length == 0 || after.length == 0) {
            throw new IllegalArgumentException("no weights to plot");
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double[] values : new double[][] {before, after}) {
            for (double v : values) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        if (min == max) {
            min -= 0.5;
            max += 0.5;
        }
        HistogramDataset data = new HistogramDataset();
        data.setType(HistogramType.FREQUENCY);
        data.addSeries("before: full precision", before, HISTOGRAM_BINS, min, max);
        data.addSeries("after LSQ fine-tuning: codes \u00d7 step", after, HISTOGRAM_BINS, min, max);

        JFreeChart chart = ChartFactory.createHistogram("Weights of layer " + layerName + " before and after LSQ",
                "weight value", "count (" + HISTOGRAM_BINS + " bins)", data, PlotOrientation.VERTICAL, true, false,
                false);
        XYPlot plot = chart.getXYPlot();
        style(chart);
        plot.setForegroundAlpha(0.55f);
        XYBarRenderer renderer = (XYBarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardXYBarPainter());
        renderer.setShadowVisible(false);
        renderer.setDrawBarOutline(false);
        renderer.setSeriesPaint(0, PALETTE[0]);
        renderer.setSeriesPaint(1, PALETTE[2]);
        write(chart, png);
    }

    private static JFreeChart epochChart(String title, String yLabel, XYSeriesCollection data) {
        JFreeChart chart = ChartFactory.createXYLineChart(title, "epoch", yLabel, data, PlotOrientation.VERTICAL,
                true, false, false);
        XYPlot plot = chart.getXYPlot();
        style(chart);
        plot.getDomainAxis().setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = (XYLineAndShapeRenderer) plot.getRenderer();
        renderer.setDefaultShapesVisible(true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            renderer.setSeriesStroke(i, LINE);
        }
        return chart;
    }

    /** White background, light grid lines, a legible title. */
    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        Paint grid = new Color(0xC8C8C8);
        if (chart.getPlot() instanceof XYPlot xy) {
            xy.setBackgroundPaint(Color.WHITE);
            xy.setDomainGridlinePaint(grid);
            xy.setRangeGridlinePaint(grid);
        } else if (chart.getPlot() instanceof CategoryPlot cat) {
            cat.setBackgroundPaint(Color.WHITE);
            cat.setDomainGridlinesVisible(true);
            cat.setDomainGridlinePaint(grid);
            cat.setRangeGridlinePaint(grid);
        }
    }

    /** The mean per precision, over the runs that have it. */
    private static Map<String, Double> mean(Iterable<Map<String, Double>> runs) {
        Map<String, List<Double>> values = new LinkedHashMap<>();
        runs.forEach(run -> run.forEach((precision, top1) ->
                values.computeIfAbsent(precision, p -> new ArrayList<>()).add(top1)));
        Map<String, Double> mean = new LinkedHashMap<>();
        values.forEach((precision, v) -> mean.put(precision,
                v.stream().mapToDouble(Double::doubleValue).average().orElseThrow()));
        return mean;
    }

    /** The x axis order: bit widths ascending, full precision last. */
    private static int bitsOrder(String precision) {
        return precision.equals(FP) ? Integer.MAX_VALUE : bits(precision);
    }

    private static String category(String precision) {
        return precision.equals(FP) ? "FP" : String.valueOf(bits(precision));
    }

    /** @return the display name of a stage key: "full precision" or "4-bit LSQ" */
    static String stageName(String stage) {
        return stage.equals(FP) ? "full precision" : bits(stage) + "-bit LSQ";
    }

    private static int bits(String precision) {
        Matcher m = BITS.matcher(precision);
        if (!m.matches()) {
            throw new IllegalArgumentException("a precision is \"fp\" or \"<bits>-bit\", got \"" + precision + "\"");
        }
        return Integer.parseInt(m.group(1));
    }

    /** Writes the chart to {@code png}, atomically. */
    private static void write(JFreeChart chart, Path png) throws IOException {
        DemoReports.writeAtomically(png, out -> ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT));
        log.info("wrote {}", png.toAbsolutePath());
    }
}
