package dev.shears.datasets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Opens a dataset by name: {@code fashion-mnist} (no folder: the embedded subset, so a run is the
 * same on every machine), {@code fashion-mnist-full} (no folder: Debian's
 * /usr/share/datasets/fashion-mnist), {@code mnist}, {@code cifar10}, {@code cifar100},
 * {@code cifar100-coarse}, {@code har-6}, {@code har-2}, {@code imagefolder}; a {@code -rows} or
 * {@code -pixels} suffix gives an image dataset as a sequence. Every failure is a
 * {@link DatasetException} naming the folder or file. Not a downloader. Pinned by DatasetsTest.
 */
public final class Datasets {
    /** Where Debian's {@code dataset-fashion-mnist} package installs the four IDX files. */
    public static final String DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";
    static final String EMBEDDED = "embedded/fashion-mnist-subset/";
    static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    static final List<String> NAMES = List.of("fashion-mnist", "fashion-mnist-full", "mnist", "cifar10", "cifar100", "cifar100-coarse", "har-6", "har-2", "imagefolder");
    private static final String[][] IDX_FILES = {
        {"train-images-idx3-ubyte", "train-images.idx3-ubyte"},
        {"train-labels-idx1-ubyte", "train-labels.idx1-ubyte"},
        {"t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"},
        {"t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"},
    };

    private Datasets() {}

    /** The names {@link #open} accepts (each also with a -rows or -pixels suffix when its samples are images). */
    public static List<String> names() {
        return NAMES;
    }

    /** Opens {@code name}; {@code dataDir} null means the default source (only the Fashion-MNIST names have one). */
    public static Splits open(String name, Path dataDir) {
        if (name == null || name.isBlank()) throw new DatasetException("no dataset name; expected one of " + String.join(", ", NAMES));
        String base = name.strip();
        boolean rows = base.endsWith("-rows"), pixels = base.endsWith("-pixels");
        if (rows) base = base.substring(0, base.length() - "-rows".length());
        if (pixels) base = base.substring(0, base.length() - "-pixels".length());
        Splits s = openBase(base, dataDir);
        if (rows || pixels) {
            if (s.train().sampleShape().length != 3) throw new DatasetException("dataset '" + name + "': " + base + " is already a sequence dataset; -rows/-pixels apply to image datasets");
            s = rows ? s.rowSequence() : s.pixelSequence();
        }
        return s;
    }

    /** An image folder with explicit output side and evaluation resize (defaults 224 and 256). */
    public static Splits imageFolder(Path dir, int size, int resize) {
        requireDir("imagefolder", dir);
        return ImageFolderSamples.open(dir, new ImageFolderSamples.Options(size, resize));
    }

    private static Splits openBase(String base, Path dir) {
        return switch (base) {
            case "fashion-mnist" -> dir == null ? embeddedFashionMnist() : idxFolder("fashion-mnist", dir, FASHION_CLASSES);
            case "fashion-mnist-full" -> idxFolder("fashion-mnist", dir != null ? dir : debianFashionMnist().orElseThrow(() -> new DatasetException(
                    "fashion-mnist-full: " + DEBIAN_FASHION_MNIST + " is not installed (apt-get install dataset-fashion-mnist) and no data folder was given")),
                    FASHION_CLASSES);
            case "mnist" -> idxFolder("mnist", requireDir(base, dir), Dataset.numberedClasses(10));
            case "cifar10" -> CifarFiles.cifar10(requireDir(base, dir));
            case "cifar100" -> CifarFiles.cifar100(requireDir(base, dir), false);
            case "cifar100-coarse" -> CifarFiles.cifar100(requireDir(base, dir), true);
            case "har-6" -> HarFiles.open(requireDir(base, dir), false);
            case "har-2" -> HarFiles.open(requireDir(base, dir), true);
            case "imagefolder" -> imageFolder(requireDir(base, dir), 224, 256);
            default -> throw new DatasetException("unknown dataset '" + base + "'; expected one of " + String.join(", ", NAMES)
                    + " (optionally with -rows or -pixels)");
        };
    }

    private static Path requireDir(String name, Path dir) {
        if (dir == null) throw new DatasetException("dataset '" + name + "' needs a data folder (--data DIR); only fashion-mnist has a built-in default");
        return dir;
    }

    /** Debian's Fashion-MNIST folder when its four files are installed. */
    public static Optional<Path> debianFashionMnist() {
        Path dir = Path.of(DEBIAN_FASHION_MNIST);
        for (String[] names : IDX_FILES) {
            if (findIdx(dir, names) == null) return Optional.empty();
        }
        return Optional.of(dir);
    }

    /**
     * The Fashion-MNIST subset stored in the jar: 1,000 training and 200 test images per class
     * (10,000 and 2,000), drawn with a fixed seed by {@code tools.MakeEmbeddedSubset} from the
     * Debian package's files. Normalised with the subset's own training statistics.
     */
    public static Splits embeddedFashionMnist() {
        IdxFile.Contents trX = concat(resource(EMBEDDED + "train-images-idx3-ubyte.part0.gz", 3), resource(EMBEDDED + "train-images-idx3-ubyte.part1.gz", 3));
        IdxFile.Contents trY = resource(EMBEDDED + "train-labels-idx1-ubyte.gz", 1);
        IdxFile.Contents teX = resource(EMBEDDED + "t10k-images-idx3-ubyte.gz", 3);
        IdxFile.Contents teY = resource(EMBEDDED + "t10k-labels-idx1-ubyte.gz", 1);
        String where = "classpath:dev/shears/datasets/" + EMBEDDED;
        Dataset train = idxDataset("fashion-mnist-embedded-train", trX, where + "train-images-idx3-ubyte.part*.gz", trY, where + "train-labels-idx1-ubyte.gz", FASHION_CLASSES);
        Dataset test = idxDataset("fashion-mnist-embedded-test", teX, where + "t10k-images-idx3-ubyte.gz", teY, where + "t10k-labels-idx1-ubyte.gz", FASHION_CLASSES);
        requireSameImageShape(train, where + "train-images-idx3-ubyte.part*.gz", test, where + "t10k-images-idx3-ubyte.gz");
        return Splits.of(train, test);
    }

    /** Two image files of the same image size as one. */
    private static IdxFile.Contents concat(IdxFile.Contents a, IdxFile.Contents b) {
        int[] da = a.dims(), db = b.dims();
        if (da[1] != db[1] || da[2] != db[2]) {
            throw new DatasetException("classpath:dev/shears/datasets/" + EMBEDDED + ": the two training image parts hold " + da[1] + "x" + da[2] + " and " + db[1] + "x" + db[2] + " images; expected the same size");
        }
        byte[] data = java.util.Arrays.copyOf(a.data(), a.data().length + b.data().length);
        System.arraycopy(b.data(), 0, data, a.data().length, b.data().length);
        return new IdxFile.Contents(new int[] {da[0] + db[0], da[1], da[2]}, data);
    }

    private static IdxFile.Contents resource(String path, int rank) {
        String where = "classpath:dev/shears/datasets/" + path;
        try (InputStream in = Datasets.class.getResourceAsStream(path)) {
            if (in == null) throw new DatasetException(where + ": missing from the classpath; expected it inside the shears jar (a broken build)");
            return IdxFile.read(in, where, -1, rank);
        } catch (IOException e) {
            throw new DatasetException(where + ": cannot read (" + e + ")", e);
        }
    }

    /** The four IDX files of an MNIST-style folder (raw or .gz; '-idx3-' or '.idx3-' names). */
    static Splits idxFolder(String name, Path dir, List<String> classNames) {
        Path root = resolveFolder(dir, null, null, "the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])");
        Path[] files = new Path[4];
        for (int f = 0; f < 4; f++) {
            files[f] = findIdx(root, IDX_FILES[f]);
            if (files[f] == null) {
                throw new DatasetException(root + ": no " + IDX_FILES[f][0] + "[.gz]; expected the four IDX files of " + name
                        + " (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, raw or .gz)");
            }
        }
        Dataset train = idxDataset(name + "-train", IdxFile.read(files[0], 3), files[0].toString(), IdxFile.read(files[1], 1), files[1].toString(), classNames);
        Dataset test = idxDataset(name + "-test", IdxFile.read(files[2], 3), files[2].toString(), IdxFile.read(files[3], 1), files[3].toString(), classNames);
        requireSameImageShape(train, files[0].toString(), test, files[2].toString());
        return Splits.of(train, test);
    }

    private static Path findIdx(Path dir, String[] names) {
        for (String n : names) {
            for (String candidate : new String[] {n + ".gz", n}) {
                Path p = dir.resolve(candidate);
                if (Files.isRegularFile(p)) return p;
            }
        }
        return null;
    }

    /** Images (N, H, W) and labels (N) into a dataset of (1, H, W) samples; labels checked against the class count. */
    static Dataset idxDataset(String name, IdxFile.Contents images, String imagesSource, IdxFile.Contents labels, String labelsSource, List<String> classNames) {
        int n = images.dims()[0];
        if (labels.dims()[0] != n) {
            throw new DatasetException(imagesSource + " holds " + n + " images but " + labelsSource + " holds " + labels.dims()[0] + " labels; expected the same count");
        }
        byte[] y = labels.data();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int v = y[i] & 0xFF;
            if (v >= classNames.size()) {
                throw new DatasetException(labelsSource + ": label " + i + " at byte offset " + (8 + i) + " reads " + v + "; expected 0.." + (classNames.size() - 1));
            }
            out[i] = v;
        }
        int[] d = images.dims();
        return Dataset.ofBytes(name, new int[] {1, d[1], d[2]}, classNames, images.data(), out);
    }

    private static void requireSameImageShape(Dataset train, String trainSource, Dataset test, String testSource) {
        int[] a = train.sampleShape(), b = test.sampleShape();
        if (a[1] != b[1] || a[2] != b[2]) {
            throw new DatasetException(testSource + " holds " + b[1] + "x" + b[2] + " images but " + trainSource + " holds " + a[1] + "x" + a[2] + "; expected the same size");
        }
    }

    /**
     * The folder holding {@code marker}: {@code dir} itself, or {@code dir/child} (the name the
     * archive unpacks to). A missing, non-folder, unreadable or empty {@code dir} is an error that
     * says what was expected. A null marker accepts {@code dir} as it is.
     */
    static Path resolveFolder(Path dir, String child, String marker, String expected) {
        if (!Files.exists(dir)) throw new DatasetException(dir + ": no such folder; expected " + expected);
        if (!Files.isDirectory(dir)) throw new DatasetException(dir + ": is a file, not a folder; expected a folder with " + expected);
        if (!Files.isReadable(dir)) throw new DatasetException(dir + ": folder is not readable; expected " + expected);
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isEmpty()) throw new DatasetException(dir + ": folder is empty; expected " + expected);
        } catch (IOException e) {
            throw new DatasetException(dir + ": cannot list (" + e + "); expected " + expected, e);
        }
        if (marker == null || Files.exists(dir.resolve(marker))) return dir;
        if (child != null && Files.exists(dir.resolve(child).resolve(marker))) return dir.resolve(child);
        throw new DatasetException(dir + ": holds no " + marker + (child != null ? " (nor " + child + "/" + marker + ")" : "") + "; expected " + expected);
    }
}
