package dev.shears.pruning;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Test layers and the full-sort oracle: random weight sets in the awkward families (empty layers,
 * single elements, many ties, zeros and -0, subnormals, huge values, all equal), and what pruning
 * k of them must give, computed by sorting every (key, layer, index) triple.
 */
final class Fixtures {
    private Fixtures() {}

    static final int FAMILIES = 7;

    /** Random layer values: {@code family} picks the awkward kind, sizes up to {@code maxSize}. */
    static float[][] values(long seed, int family, int maxLayers, int maxSize) {
        SplittableRandom r = new SplittableRandom(seed);
        int layers = r.nextInt(maxLayers + 1);
        float[][] out = new float[layers][];
        float constant = (float) r.nextGaussian();
        for (int l = 0; l < layers; l++) {
            int kind = r.nextInt(8);
            int n = kind == 0 ? 0 : kind == 1 ? 1 : kind == 2 ? 2 : r.nextInt(maxSize + 1);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = value(r, family == 6 ? r.nextInt(6) : family, constant);
            out[l] = v;
        }
        return out;
    }

    private static float value(SplittableRandom r, int family, float constant) {
        float sign = r.nextBoolean() ? 1f : -1f;
        return switch (family) {
            case 0 -> (float) r.nextGaussian();
            case 1 -> sign * new float[] {0f, 0.5f, 1f, 2f}[r.nextInt(4)];
            case 2 -> r.nextInt(3) == 0 ? sign * (float) r.nextGaussian() * 1e-3f : sign * 0f;
            case 3 -> sign * Float.MIN_VALUE * (1 + r.nextInt(5)) * (r.nextInt(4) == 0 ? 1 << 20 : 1);
            case 4 -> sign * new float[] {Float.MAX_VALUE, 3e38f, 1e38f, 1f, Float.MIN_NORMAL}[r.nextInt(5)];
            default -> r.nextInt(10) == 0 ? -constant : constant;
        };
    }

    /** Random conv/linear-like shapes (some empty) filled with a family's values, as prunable layers. */
    static List<PrunableLayer> layers(long seed, int family, int maxLayers) {
        SplittableRandom r = new SplittableRandom(seed);
        int count = r.nextInt(maxLayers + 1);
        float constant = (float) r.nextGaussian();
        List<PrunableLayer> out = new ArrayList<>();
        for (int l = 0; l < count; l++) {
            int[] shape = switch (r.nextInt(5)) {
                case 0 -> new int[] {1 + r.nextInt(8), 1 + r.nextInt(8)};
                case 1 -> new int[] {1 + r.nextInt(6), 1 + r.nextInt(4), 3, 3};
                case 2 -> new int[] {1 + r.nextInt(6), 1, 3, 3};
                case 3 -> new int[] {r.nextInt(2), 3};
                default -> new int[] {1 + r.nextInt(16), 1 + r.nextInt(16), 1, 1};
            };
            int n = 1;
            for (int d : shape) n *= d;
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = value(r, family == 6 ? r.nextInt(6) : family, constant);
            out.add(new PrunableLayer("layer" + l, shape, segment(v), n, 1 + r.nextInt(50), r.nextBoolean()));
        }
        return out;
    }

    static float[][] values(List<PrunableLayer> layers) {
        float[][] v = new float[layers.size()][];
        for (int l = 0; l < v.length; l++) v[l] = read(layers.get(l).weights(), (int) layers.get(l).count());
        return v;
    }

    static List<MemorySegment> masks(List<PrunableLayer> layers) {
        return masks(values(layers));
    }

    static List<ScoreSegment> segments(float[][] values) {
        List<ScoreSegment> out = new ArrayList<>();
        for (int l = 0; l < values.length; l++) out.add(new ScoreSegment("layer" + l, segment(values[l]), values[l].length));
        return out;
    }

    static MemorySegment segment(float[] v) {
        MemorySegment s = Arena.ofAuto().allocate(Math.max(4, v.length * 4L), 64);
        MemorySegment.copy(v, 0, s, ValueLayout.JAVA_FLOAT, 0, v.length);
        return s;
    }

    static List<MemorySegment> masks(float[][] values) {
        List<MemorySegment> out = new ArrayList<>();
        for (float[] v : values) {
            MemorySegment m = Arena.ofAuto().allocate(Math.max(4, v.length * 4L), 64);
            m.fill((byte) 0x7f); // garbage: the masking pass must write every entry
            out.add(m);
        }
        return out;
    }

    static float[] read(MemorySegment m, int n) {
        return m.asSlice(0, n * 4L).toArray(ValueLayout.JAVA_FLOAT);
    }

    static long total(float[][] values) {
        long n = 0;
        for (float[] v : values) n += v.length;
        return n;
    }

    /** What the oracle says: pruned[l][i], the threshold key (k-th smallest eligible) and how many eligible are below it. */
    record Expected(boolean[][] pruned, int key, long below) {
        long prunedIn(int l) {
            long c = 0;
            for (boolean b : pruned[l]) if (b) c++;
            return c;
        }
    }

    /** Full sort: protect each layer's top floors[l] by (key, index), then prune the k smallest (key, layer, index). */
    static Expected oracle(float[][] values, KeyOrder order, long k, long[] floors) {
        // one long per weight: key (offset to unsigned, 32 bits) | layer (8 bits) | index (23 bits)
        if (values.length > 255) throw new IllegalArgumentException("oracle: at most 255 layers");
        long[] pool = new long[(int) total(values)];
        int size = 0;
        for (int l = 0; l < values.length; l++) {
            if (values[l].length >= 1 << 23) throw new IllegalArgumentException("oracle: layers below 2^23 weights");
            long[] layer = new long[values[l].length];
            for (int i = 0; i < layer.length; i++) layer[i] = pack(order.key(values[l][i]), l, i);
            Arrays.sort(layer); // (key, index) within the layer
            long f = floors == null ? 0 : floors[l];
            for (int j = 0; j < layer.length - f; j++) pool[size++] = layer[j];
        }
        Arrays.sort(pool, 0, size);
        boolean[][] pruned = new boolean[values.length][];
        for (int l = 0; l < values.length; l++) pruned[l] = new boolean[values[l].length];
        for (int j = 0; j < k; j++) pruned[(int) (pool[j] >>> 23 & 0xff)][(int) (pool[j] & 0x7fffff)] = true;
        int key = k == 0 ? Integer.MIN_VALUE : keyOf(pool[(int) k - 1]);
        long below = 0;
        for (int j = 0; j < size; j++) if (k > 0 && keyOf(pool[j]) < key) below++;
        return new Expected(pruned, key, below);
    }

    private static long pack(int key, int layer, int index) {
        return ((key ^ 0x80000000L) & 0xffffffffL) << 31 | (long) layer << 23 | index;
    }

    private static int keyOf(long packed) {
        return (int) (packed >>> 31) ^ 0x80000000;
    }

    static String describe(float[][] values) {
        StringBuilder b = new StringBuilder();
        for (float[] v : values) b.append(v.length <= 12 ? Arrays.toString(v) : "[" + v.length + " values]").append(' ');
        return b.toString();
    }
}
