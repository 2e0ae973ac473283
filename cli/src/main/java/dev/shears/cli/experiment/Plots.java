package dev.shears.cli.experiment;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.CategoryTextAnnotation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * The sweep's PNG plots, drawn headless with JFreeChart: accuracy vs sparsity and accuracy vs
 * remaining FLOPs (one line per method, mean ± std over seeds as error bars, x on a log scale of
 * what remains so 90%, 99% and 99.9% are evenly apart, dense accuracy dashed), and the remaining
 * weights per layer of Global MP and Global MP + MT at the highest sparsity (the paper's
 * layer-collapse figure; empty layers are marked). Files are written to a temp file and renamed.
 * Not a general charting layer. Pinned by ReportTest (files are valid PNGs).
 */
final class Plots {
    private static final String ACCURACY_SPARSITY = Report.ACCURACY_SPARSITY, ACCURACY_FLOPS = Report.ACCURACY_FLOPS, LAYERS = Report.LAYERS;

    private static final Map<String, Color> COLORS = Map.of(
            "global", new Color(0xD62728), "global-mt", new Color(0x9467BD), "uniform", new Color(0x1F77B4), "erk", new Color(0x17BECF),
            "lamp", new Color(0x2CA02C), "snip", new Color(0xFF7F0E), "grasp", new Color(0x8C564B), "synflow", new Color(0xE377C2),
            "random", new Color(0x7F7F7F), "gradual-global", new Color(0xBCBD22));
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 16);

    private Plots() {}

    /** Draws the plots the cells allow; returns the file names written. */
    static List<String> write(Path out, Plan plan, List<Summary> summaries, List<CellResult> cells) {
        System.setProperty("java.awt.headless", "true"); // before the first AWT class: no display needed
        List<String> written = new ArrayList<>();
        double dense = Summary.Stat.of(cells.stream().filter(c -> !c.method().equals("gradual-global")).map(CellResult::denseAccuracy).distinct().toList()).mean();
        String subtitle = plan.model() + " on " + plan.dataset() + (plan.seeds().size() > 1 ? ", mean ± std over " + plan.seeds().size() + " seeds" : "");
        save(out.resolve(ACCURACY_SPARSITY), accuracyChart(plan, summaries, false, dense, "Accuracy vs sparsity: " + subtitle), 960, 600);
        written.add(ACCURACY_SPARSITY);
        save(out.resolve(ACCURACY_FLOPS), accuracyChart(plan, summaries, true, dense, "Accuracy vs remaining FLOPs: " + subtitle), 960, 600);
        written.add(ACCURACY_FLOPS);
        Optional<JFreeChart> layers = layerChart(plan, cells);
        if (layers.isPresent()) {
            int n = cells.getFirst().layers().size();
            save(out.resolve(LAYERS), layers.get(), Math.max(960, Math.min(2400, 60 + 28 * n)), 640);
            written.add(LAYERS);
        }
        return written;
    }

    private static JFreeChart accuracyChart(Plan plan, List<Summary> summaries, boolean flops, double dense, String title) {
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        List<Color> colors = new ArrayList<>();
        double minX = 100;
        for (String m : plan.methods()) {
            YIntervalSeries s = new YIntervalSeries(label(m, plan));
            summaries.stream().filter(x -> x.method().equals(m)).sorted(Comparator.comparingDouble(Summary::sparsity)).forEach(x -> {
                double remaining = 100 * (flops ? x.remainingFlops() : 1 - x.achieved());
                double sd = Double.isFinite(x.accuracy().std()) ? x.accuracy().std() : 0;
                s.add(Math.max(remaining, 1e-4), x.accuracy().mean(), x.accuracy().mean() - sd, x.accuracy().mean() + sd);
            });
            if (s.getItemCount() == 0) continue;
            for (int i = 0; i < s.getItemCount(); i++) minX = Math.min(minX, s.getX(i).doubleValue());
            data.addSeries(s);
            colors.add(COLORS.getOrDefault(m, Color.DARK_GRAY));
        }
        LogAxis x = new PrunedAxis(flops ? "FLOPs pruned (log scale of the FLOPs left)" : "sparsity (log scale of the weights left)");
        x.setRange(Math.min(minX / 1.6, 60), 100);
        NumberAxis y = new NumberAxis("test accuracy, %");
        y.setRange(0, 100);
        y.setTickUnit(new NumberTickUnit(10));
        XYErrorRenderer r = new XYErrorRenderer();
        r.setDefaultLinesVisible(true);
        r.setDefaultShapesVisible(true);
        r.setCapLength(6);
        for (int i = 0; i < colors.size(); i++) {
            r.setSeriesPaint(i, colors.get(i));
            r.setSeriesStroke(i, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, x, y, r);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        if (Double.isFinite(dense)) marker(plot, dense, String.format(Locale.ROOT, "dense %.1f%%", dense), new Color(0x444444));
        JFreeChart chart = new JFreeChart(title, TITLE, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    /**
     * A log axis of what remains (100% = dense) drawn inverted, labelled with what was pruned:
     * ticks at 0, 50, 80, 90, 95, 98, 99, 99.5, 99.8, 99.9% ..., so high sparsities spread out.
     */
    private static final class PrunedAxis extends LogAxis {
        private static final double[] REMAINING = {100, 50, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001};

        PrunedAxis(String label) {
            super(label);
            setBase(10);
            setSmallestValue(1e-4);
            setInverted(true);
        }

        @Override
        protected List<org.jfree.chart.axis.NumberTick> refreshTicksHorizontal(java.awt.Graphics2D g2, java.awt.geom.Rectangle2D area,
                                                                              org.jfree.chart.ui.RectangleEdge edge) {
            List<org.jfree.chart.axis.NumberTick> ticks = new ArrayList<>();
            for (double v : REMAINING) {
                if (v < getLowerBound() || v > getUpperBound()) continue;
                String label = new DecimalFormat("0.###").format(100 - v) + "%";
                ticks.add(new org.jfree.chart.axis.NumberTick(org.jfree.chart.axis.TickType.MAJOR, v, label, TextAnchor.TOP_CENTER, TextAnchor.CENTER, 0.0));
            }
            return ticks;
        }
    }

    private static void marker(XYPlot plot, double value, String text, Color c) {
        ValueMarker m = new ValueMarker(value, c, new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        m.setLabel(text);
        m.setLabelAnchor(RectangleAnchor.TOP_LEFT);
        m.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
        m.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        plot.addRangeMarker(m);
    }

    /** Remaining weights per layer at the highest sparsity where Global MP ran (first seed), with Global MP + MT beside it. */
    private static Optional<JFreeChart> layerChart(Plan plan, List<CellResult> cells) {
        Optional<CellResult> g = cells.stream().filter(c -> c.method().equals("global")).max(Comparator.comparingDouble(CellResult::sparsity)
                .thenComparing(Comparator.comparingLong(CellResult::seed).reversed()));
        if (g.isEmpty()) return Optional.empty();
        double s = g.get().sparsity();
        Optional<CellResult> mt = cells.stream().filter(c -> c.method().equals("global-mt") && Math.abs(c.sparsity() - s) < 1e-9 && c.seed() == g.get().seed()).findFirst();
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<CellResult.Layer> layers = g.get().layers();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) names.add((i + 1) + " " + layers.get(i).name());
        List<String> series = new ArrayList<>(List.of("layer size (dense)", label("global", plan)));
        if (mt.isPresent()) series.add(label("global-mt", plan));
        CategoryPlot plot = new CategoryPlot();
        for (int i = 0; i < layers.size(); i++) {
            data.addValue(layers.get(i).weights(), series.get(0), names.get(i));
            data.addValue(orNull(layers.get(i).kept()), series.get(1), names.get(i));
            if (mt.isPresent()) data.addValue(orNull(mt.get().layers().get(i).kept()), series.get(2), names.get(i));
        }
        LogAxis y = new LogAxis("weights left in the layer (log scale)");
        y.setBase(10);
        y.setSmallestValue(0.5);
        y.setNumberFormatOverride(new DecimalFormat("#,##0"));
        y.setTickUnit(new NumberTickUnit(1)); // one tick per power of ten
        long max = layers.stream().mapToLong(CellResult.Layer::weights).max().orElse(10);
        y.setRange(0.5, max * 3.0);
        CategoryAxis x = new CategoryAxis("prunable layer (forward order)");
        x.setCategoryLabelPositions(layers.size() > 8 ? CategoryLabelPositions.UP_90 : CategoryLabelPositions.STANDARD);
        x.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, layers.size() > 30 ? 9 : 11));
        BarRenderer r = new BarRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setBase(0.5);
        r.setItemMargin(0.05);
        r.setSeriesPaint(0, new Color(0xCCCCCC));
        r.setSeriesPaint(1, COLORS.get("global"));
        r.setSeriesPaint(2, COLORS.get("global-mt"));
        plot.setDataset(data);
        plot.setDomainAxis(x);
        plot.setRangeAxis(y);
        plot.setRenderer(r);
        plot.setOrientation(PlotOrientation.VERTICAL);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i).kept() == 0) empty(plot, names.get(i), "Global MP: EMPTY", COLORS.get("global"), 1.0);
            if (mt.isPresent() && mt.get().layers().get(i).kept() == 0) empty(plot, names.get(i), "MT: EMPTY", COLORS.get("global-mt"), 3.0);
        }
        String title = String.format(Locale.ROOT, "Weights left per layer at %s sparsity (%s, seed %d)%s", SweepProgress.percent(s), plan.model(), g.get().seed(),
                g.get().collapsedLayers().isEmpty() ? "" : ": Global MP empties " + String.join(", ", g.get().collapsedLayers()));
        JFreeChart chart = new JFreeChart(title, TITLE, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        return Optional.of(chart);
    }

    private static void empty(CategoryPlot plot, String category, String text, Color c, double at) {
        CategoryTextAnnotation a = new CategoryTextAnnotation(text, category, at);
        a.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 11));
        a.setPaint(c);
        a.setTextAnchor(TextAnchor.BOTTOM_LEFT);
        a.setRotationAngle(-Math.PI / 2);
        a.setRotationAnchor(TextAnchor.BOTTOM_LEFT);
        plot.addAnnotation(a);
    }

    private static Number orNull(long kept) {
        return kept == 0 ? null : kept;
    }

    private static String label(String method, Plan plan) {
        return switch (method) {
            case "global" -> "Global MP";
            case "global-mt" -> "Global MP + MT (" + plan.mt() + ")";
            case "gradual-global" -> "gradual Global MP";
            case "lamp" -> "LAMP";
            case "erk" -> "ERK";
            case "snip" -> "SNIP";
            case "grasp" -> "GraSP";
            case "synflow" -> "SynFlow";
            default -> method;
        };
    }

    private static void save(Path file, JFreeChart chart, int w, int h) {
        dev.shears.nn.io.AtomicFiles.write(file, os -> ChartUtils.writeChartAsPNG(os, chart, w, h));
    }
}
