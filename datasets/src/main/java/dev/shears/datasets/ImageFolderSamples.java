package dev.shears.datasets;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Image files in the ImageNet layout ({@code <split>/<class>/<file>}), decoded with ImageIO when a
 * sample is read, never held in memory. Evaluation decode: shorter side resized to
 * {@code resize}, centre crop {@code size}. Training decode (random-resized-crop): a random
 * region of 8%..100% of the area with aspect ratio 3/4..4/3 (ten tries, then a centre crop),
 * resized to {@code size}. Resampling is a separable triangle filter widened when shrinking
 * (antialiased bilinear). Output (3, size, size) in [0, 1]; grey images are replicated to three
 * channels. A file ImageIO cannot decode is a {@link DatasetException} naming it. Pinned by
 * ImageFolderTest.
 */
final class ImageFolderSamples implements Samples {
    private static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".bmp", ".gif");

    private final Path[] classDirs;  // (classes)
    private final String[] files;    // (N) file names
    private final int[] classOf;     // (N) index into classDirs
    private final int size;
    private final int resize;

    private ImageFolderSamples(Path[] classDirs, String[] files, int[] classOf, int size, int resize) {
        this.classDirs = classDirs;
        this.files = files;
        this.classOf = classOf;
        this.size = size;
        this.resize = resize;
    }

    /** Options of an image folder: output side {@code size}, evaluation shorter side {@code resize} (224 and 256 for ImageNet). */
    record Options(int size, int resize) {
        Options {
            if (size < 1 || resize < size) throw new IllegalArgumentException("image folder size " + size + " and resize " + resize + ": need 1 <= size <= resize");
        }
    }

    /** ImageNet's published per-channel mean and std (RGB, values in [0, 1]). */
    private static float[] imagenetMean() { return new float[] {0.485f, 0.456f, 0.406f}; }
    private static float[] imagenetStd() { return new float[] {0.229f, 0.224f, 0.225f}; }

    static Splits open(Path dir, Options options) {
        Path root = Datasets.resolveFolder(dir, null, "train", "an image folder (train/<class>/*, val/<class>/*)");
        Path train = root.resolve("train");
        Path val = root.resolve("val");
        List<String> classes = subfolders(train);
        if (classes.isEmpty()) throw new DatasetException(train + ": holds no class folders; expected train/<class>/<image files>");
        if (!Files.isDirectory(val)) throw new DatasetException(val + ": no such folder; expected val/<class>/<image files> next to " + train);
        Dataset tr = scan("imagefolder-train", train, classes, classes, options);
        List<String> valClasses = subfolders(val);
        for (String c : valClasses) {
            if (!classes.contains(c)) throw new DatasetException(val.resolve(c) + ": class folder not in " + train + "; expected one of its " + classes.size() + " class folders");
        }
        if (valClasses.isEmpty()) throw new DatasetException(val + ": holds no class folders; expected val/<class>/<image files>");
        Dataset te = scan("imagefolder-val", val, valClasses, classes, options);
        return new Splits(tr, te);
    }

    private static Dataset scan(String name, Path split, List<String> present, List<String> classes, Options options) {
        List<Path> dirs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String c : present) {
            Path d = split.resolve(c);
            List<String> images;
            try (Stream<Path> s = Files.list(d)) {
                images = s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).filter(ImageFolderSamples::isImageName).sorted().toList();
            } catch (IOException e) {
                throw new DatasetException(d + ": cannot list (" + e + ")", e);
            }
            if (images.isEmpty()) throw new DatasetException(d + ": holds no image files; expected " + String.join(", ", EXTENSIONS) + " files");
            int owner = dirs.size();
            dirs.add(d);
            for (String f : images) {
                names.add(f);
                owners.add(owner);
                labels.add(classes.indexOf(c));
            }
        }
        int[] classOf = owners.stream().mapToInt(Integer::intValue).toArray();
        ImageFolderSamples samples = new ImageFolderSamples(dirs.toArray(Path[]::new), names.toArray(String[]::new), classOf, options.size, options.resize);
        return new Dataset(name, new int[] {3, options.size, options.size}, classes, labels.stream().mapToInt(Integer::intValue).toArray(), samples,
                imagenetMean(), imagenetStd(), options.size * options.size);
    }

    private static boolean isImageName(String f) {
        String lower = f.toLowerCase(Locale.ROOT);
        for (String e : EXTENSIONS) if (lower.endsWith(e)) return true;
        return false;
    }

    private static List<String> subfolders(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new DatasetException(dir + ": cannot list (" + e + ")", e);
        }
    }

    @Override
    public int count() {
        return files.length;
    }

    @Override
    public boolean lazy() {
        return true;
    }

    Path file(int i) {
        return classDirs[classOf[i]].resolve(files[i]);
    }

    @Override
    public void read(int i, float[] dst, int off, boolean randomResizedCrop, RandomGenerator rng) {
        Path file = file(i);
        Decoded img = decode(file);
        double[] box = randomResizedCrop ? randomBox(img.width, img.height, rng) : centreBox(img.width, img.height);
        resample(img, box, dst, off);
    }

    /** Pixels as (3, H, W) floats in [0, 1]. */
    record Decoded(float[] chw, int width, int height) {}

    static Decoded decode(Path file) {
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) { // some ImageIO decoders throw unchecked errors on bad data
            throw new DatasetException(file + ": image fails to decode (" + e.getMessage() + "); expected a readable JPEG/PNG/BMP/GIF file", e);
        }
        if (image == null) throw new DatasetException(file + ": no ImageIO decoder recognises this file; expected a JPEG/PNG/BMP/GIF image");
        int w = image.getWidth(), h = image.getHeight();
        if (w < 1 || h < 1) throw new DatasetException(file + ": image of " + w + "x" + h + " pixels; expected at least 1x1");
        int plane = w * h;
        float[] chw = new float[3 * plane];
        Raster raster = image.getRaster();
        if (raster.getNumBands() == 1 && raster.getSampleModel().getSampleSize(0) == 8) {
            // Grey: take the samples as stored (getRGB would convert them through a linear grey space).
            int[] grey = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int k = 0; k < plane; k++) {
                float v = Samples.UNIT[grey[k] & 0xFF];
                chw[k] = v;
                chw[plane + k] = v;
                chw[2 * plane + k] = v;
            }
        } else {
            int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
            for (int k = 0; k < plane; k++) {
                int p = argb[k];
                chw[k] = Samples.UNIT[(p >> 16) & 0xFF];
                chw[plane + k] = Samples.UNIT[(p >> 8) & 0xFF];
                chw[2 * plane + k] = Samples.UNIT[p & 0xFF];
            }
        }
        return new Decoded(chw, w, h);
    }

    /** Shorter side to {@code resize}, centre {@code size} x {@code size}: as a box {x0, y0, w, h} in source pixels. */
    double[] centreBox(int w, int h) {
        double scale = (double) resize / Math.min(w, h);
        double side = size / scale;
        double bw = Math.min(side, w), bh = Math.min(side, h);
        return new double[] {(w - bw) / 2, (h - bh) / 2, bw, bh};
    }

    /** A random region of 8%..100% of the area, aspect 3/4..4/3 (log-uniform); ten tries, then the largest centred box in range. */
    static double[] randomBox(int w, int h, RandomGenerator rng) {
        double area = (double) w * h;
        double logLo = Math.log(3.0 / 4), logHi = Math.log(4.0 / 3);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (0.08 + 0.92 * rng.nextDouble());
            double ratio = Math.exp(logLo + (logHi - logLo) * rng.nextDouble());
            int bw = (int) Math.round(Math.sqrt(target * ratio));
            int bh = (int) Math.round(Math.sqrt(target / ratio));
            if (bw > 0 && bh > 0 && bw <= w && bh <= h) {
                int y0 = rng.nextInt(h - bh + 1);
                int x0 = rng.nextInt(w - bw + 1);
                return new double[] {x0, y0, bw, bh};
            }
        }
        double inRatio = (double) w / h;
        double bw = w, bh = h;
        if (inRatio < 3.0 / 4) bh = Math.min(h, Math.round(w / (3.0 / 4)));
        else if (inRatio > 4.0 / 3) bw = Math.min(w, Math.round(h * (4.0 / 3)));
        return new double[] {(w - bw) / 2, (h - bh) / 2, bw, bh};
    }

    /** Resamples {@code box} of the image to (3, size, size) into dst[off..]. */
    private void resample(Decoded img, double[] box, float[] dst, int off) {
        Taps xs = taps(box[0], box[2], img.width, size);
        Taps ys = taps(box[1], box[3], img.height, size);
        int w = img.width, plane = w * img.height;
        float[] rowBuf = new float[size];
        for (int c = 0; c < 3; c++) {
            int cBase = c * plane;
            for (int oy = 0; oy < size; oy++) {
                java.util.Arrays.fill(rowBuf, 0f);
                for (int t = ys.start[oy]; t < ys.start[oy + 1]; t++) {
                    int sy = ys.index[t];
                    float wy = ys.weight[t];
                    int rowBase = cBase + sy * w;
                    for (int ox = 0; ox < size; ox++) {
                        float acc = 0;
                        for (int u = xs.start[ox]; u < xs.start[ox + 1]; u++) acc += xs.weight[u] * img.chw[rowBase + xs.index[u]];
                        rowBuf[ox] += wy * acc;
                    }
                }
                int o = off + c * size * size + oy * size;
                for (int ox = 0; ox < size; ox++) dst[o + ox] = Math.min(1f, Math.max(0f, rowBuf[ox]));
            }
        }
    }

    /** Filter taps of one axis: output j reads source index[start[j]..start[j+1]) with normalised weights. */
    record Taps(int[] start, int[] index, float[] weight) {}

    /** Triangle-filter taps mapping source [from, from+length) of an axis of {@code extent} pixels onto {@code out} pixels. */
    static Taps taps(double from, double length, int extent, int out) {
        double scale = length / out;
        double support = Math.max(1.0, scale);
        int[] start = new int[out + 1];
        List<int[]> idx = new ArrayList<>();
        List<float[]> wts = new ArrayList<>();
        int count = 0;
        for (int j = 0; j < out; j++) {
            double centre = from + (j + 0.5) * scale - 0.5;
            int lo = (int) Math.floor(centre - support) + 1, hi = (int) Math.ceil(centre + support) - 1;
            int n = Math.max(0, hi - lo + 1);
            int[] ix = new int[Math.max(1, n)];
            float[] wt = new float[Math.max(1, n)];
            double sum = 0;
            int m = 0;
            for (int s = lo; s <= hi; s++) {
                double wgt = 1 - Math.abs(s - centre) / support;
                if (wgt <= 0) continue;
                ix[m] = Math.clamp(s, 0, extent - 1);
                wt[m] = (float) wgt;
                sum += wgt;
                m++;
            }
            if (m == 0) { // centre exactly on a pixel with support 1: that pixel alone
                ix[0] = Math.clamp(Math.round(centre), 0, extent - 1);
                wt[0] = 1;
                sum = 1;
                m = 1;
            }
            for (int k = 0; k < m; k++) wt[k] = (float) (wt[k] / sum);
            idx.add(java.util.Arrays.copyOf(ix, m));
            wts.add(java.util.Arrays.copyOf(wt, m));
            count += m;
            start[j + 1] = count;
        }
        int[] index = new int[count];
        float[] weight = new float[count];
        for (int j = 0, p = 0; j < out; j++) {
            System.arraycopy(idx.get(j), 0, index, p, idx.get(j).length);
            System.arraycopy(wts.get(j), 0, weight, p, wts.get(j).length);
            p += idx.get(j).length;
        }
        return new Taps(start, index, weight);
    }
}
