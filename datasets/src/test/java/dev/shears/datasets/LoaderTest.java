package dev.shears.datasets;

import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The loader: seeded order and augmentation, exact epochs, partial batches, crop/flip against a plain reference, threads. */
class LoaderTest {
    private static Dataset images(String name, int n, int c, int h, int w, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] px = new byte[n * c * h * w];
        rng.nextBytes(px);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.nextInt(10);
        return Dataset.ofBytes(name, new int[] {c, h, w}, Dataset.numberedClasses(10), px, labels);
    }

    /** Every batch of an epoch, copied out: inputs, labels, sample indices. */
    private static List<Object[]> drain(Loader loader, int epoch) {
        List<Object[]> out = new ArrayList<>();
        for (Batch b : loader.epoch(epoch)) {
            int[] idx = new int[b.size()], lab = new int[b.size()];
            for (int r = 0; r < b.size(); r++) {
                idx[r] = b.sampleIndex(r);
                lab[r] = b.labels().getInt(r);
            }
            out.add(new Object[] {b.inputs().toFloatArray(), lab, idx});
        }
        return out;
    }

    private static void assertSameBatches(List<Object[]> a, List<Object[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals((float[]) a.get(i)[0], (float[]) b.get(i)[0], "inputs of batch " + i);
            assertArrayEquals((int[]) a.get(i)[1], (int[]) b.get(i)[1], "labels of batch " + i);
            assertArrayEquals((int[]) a.get(i)[2], (int[]) b.get(i)[2], "indices of batch " + i);
        }
    }

    @Test
    void sameSeedSameBatchesWhateverThePrefetchAndEpochOrder() {
        Dataset d = images("seeded", 37, 3, 8, 8, 1);
        Loader.Options o = Loader.Options.of(8).withSeed(42).withAugment(Augment.cifar().withPadding(2, Augment.PadMode.REFLECT));
        try (Loader a = new Loader(d, o); Loader b = new Loader(d, o.withPrefetch(0)); Loader c = new Loader(d, o.withPrefetch(5))) {
            List<Object[]> a3 = null;
            for (int e = 0; e < 4; e++) {
                List<Object[]> x = drain(a, e);
                assertSameBatches(x, drain(b, e));
                if (e == 3) a3 = x;
            }
            assertSameBatches(a3, drain(c, 3)); // epoch 3 straight away: resumption is exact
            // Another epoch or another seed gives another order.
            assertFalse(Arrays.equals(a.epoch(0).order(), a.epoch(1).order()));
            try (Loader other = new Loader(d, o.withSeed(43))) {
                assertFalse(Arrays.equals(a.epoch(0).order(), other.epoch(0).order()));
            }
        }
    }

    @Test
    void epochsVisitEverySampleOnceWithAKeptOrDroppedPartialBatch() {
        Dataset d = images("partial", 37, 1, 4, 4, 2);
        try (Loader keep = new Loader(d, Loader.Options.of(8).withSeed(7))) {
            assertEquals(5, keep.batchesPerEpoch());
            Set<Integer> seen = new HashSet<>();
            List<Integer> sizes = new ArrayList<>();
            for (Batch b : keep.epoch(0)) {
                sizes.add(b.size());
                assertEquals(b.size(), b.inputs().dim(0));
                assertArrayEquals(new int[] {b.size(), 1, 4, 4}, b.inputs().shape());
                assertArrayEquals(new int[] {b.size()}, b.labels().shape());
                for (int r = 0; r < b.size(); r++) {
                    assertTrue(seen.add(b.sampleIndex(r)), "sample " + b.sampleIndex(r) + " twice");
                    assertEquals(d.label(b.sampleIndex(r)), b.labels().getInt(r));
                }
            }
            assertEquals(List.of(8, 8, 8, 8, 5), sizes);
            assertEquals(37, seen.size());
        }
        try (Loader drop = new Loader(d, Loader.Options.of(8).withDropLast(true))) {
            assertEquals(4, drop.batchesPerEpoch());
            int rows = 0;
            for (Batch b : drop.epoch(0)) rows += b.size();
            assertEquals(32, rows);
        }
        try (Loader ordered = new Loader(d, Loader.Options.of(10).withShuffle(false))) {
            int expected = 0;
            for (Batch b : ordered.epoch(5)) for (int r = 0; r < b.size(); r++) assertEquals(expected++, b.sampleIndex(r));
        }
    }

    @Test
    void withoutAugmentationRowsAreTheNormalisedSamples() {
        Dataset d = images("plain", 13, 3, 5, 6, 3);
        float[] ref = new float[90];
        try (Loader loader = new Loader(d, Loader.Options.of(4).withSeed(1))) {
            for (Batch b : loader.epoch(0)) {
                float[] v = b.inputs().toFloatArray();
                for (int r = 0; r < b.size(); r++) {
                    d.readNormalized(b.sampleIndex(r), ref, 0);
                    assertArrayEquals(ref, Arrays.copyOfRange(v, r * 90, (r + 1) * 90));
                }
            }
        }
        // Sequences (T, F) batch as (B, T, F).
        Dataset seq = d.rowSequence();
        try (Loader loader = new Loader(seq, Loader.Options.of(4).withShuffle(false))) {
            Batch b = loader.epoch(0).next();
            assertArrayEquals(new int[] {4, 5, 18}, b.inputs().shape());
            seq.readNormalized(2, ref, 0);
            assertArrayEquals(ref, Arrays.copyOfRange(b.inputs().toFloatArray(), 180, 270));
        }
    }

    /** Reference crop: build the padded image, cut at (p+dy, p+dx), mirror, normalise: a different route from the loader's. */
    private static float[] reference(float[] raw, int c, int h, int w, int p, boolean reflect, int dy, int dx, boolean flip, float[] mean, float[] std) {
        int ph = h + 2 * p, pw = w + 2 * p;
        float[] padded = new float[c * ph * pw];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < ph; y++) {
                for (int x = 0; x < pw; x++) {
                    int sy = y - p, sx = x - p;
                    if (reflect) {
                        sy = sy < 0 ? -sy : sy >= h ? 2 * h - 2 - sy : sy;
                        sx = sx < 0 ? -sx : sx >= w ? 2 * w - 2 - sx : sx;
                    }
                    boolean in = sy >= 0 && sy < h && sx >= 0 && sx < w;
                    padded[(ch * ph + y) * pw + x] = in ? raw[(ch * h + sy) * w + sx] : 0f;
                }
            }
        }
        float[] out = new float[c * h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int cx = flip ? w - 1 - x : x;
                    float v = padded[(ch * ph + y + p + dy) * pw + cx + p + dx];
                    out[(ch * h + y) * w + x] = (v - mean[ch]) / std[ch];
                }
            }
        }
        return out;
    }

    @Test
    void cropAndFlipMatchThePaddedCropReference() {
        qt().withFixedSeed(41).withExamples(25)
                .forAll(integers().between(0, 3), booleans().all(), booleans().all(), longs().all())
                .checkAssert((p, reflect, flip, seed) -> {
                    int c = 3, h = 5, w = 7;
                    Dataset d = images("crop", 40, c, h, w, seed);
                    Augment aug = new Augment(p, reflect ? Augment.PadMode.REFLECT : Augment.PadMode.ZERO, flip, true, false);
                    Set<String> draws = new HashSet<>();
                    float[] raw = new float[c * h * w];
                    try (Loader loader = new Loader(d, Loader.Options.of(16).withSeed(seed).withAugment(aug))) {
                        for (Batch b : loader.epoch(0)) {
                            float[] v = b.inputs().toFloatArray();
                            for (int r = 0; r < b.size(); r++) {
                                float[] got = Arrays.copyOfRange(v, r * c * h * w, (r + 1) * c * h * w);
                                d.read(b.sampleIndex(r), raw, 0);
                                String match = null;
                                for (int dy = -p; dy <= p && match == null; dy++) {
                                    for (int dx = -p; dx <= p && match == null; dx++) {
                                        for (boolean f : flip ? new boolean[] {false, true} : new boolean[] {false}) {
                                            if (Arrays.equals(got, reference(raw, c, h, w, p, reflect, dy, dx, f, d.mean(), d.std()))) {
                                                match = dy + "," + dx + "," + f;
                                                break;
                                            }
                                        }
                                    }
                                }
                                assertNotNull(match, "row " + r + " is no padded crop (p=" + p + ", reflect=" + reflect + ", flip=" + flip + ")");
                                draws.add(match);
                            }
                        }
                    }
                    // The draws vary: 40 samples never all take one offset/flip when there is a choice.
                    if (p > 0 || flip) assertTrue(draws.size() > 1, "all 40 samples drew " + draws);
                    if (flip) {
                        assertTrue(draws.stream().anyMatch(s -> s.endsWith("true")) && draws.stream().anyMatch(s -> s.endsWith("false")), draws.toString());
                    }
                });
    }

    @Test
    void abandonedEpochsAndCloseLeaveNoThreadAndNoLiveBuffers() {
        Dataset d = images("threads-xyz", 50, 1, 6, 6, 4);
        Loader loader = new Loader(d, Loader.Options.of(4).withPrefetch(3));
        Loader.Epoch first = loader.epoch(0);
        Batch held = first.next();
        assertTrue(held.inputs().isOpen());
        Loader.Epoch second = loader.epoch(1); // abandons epoch 0 mid-way
        IllegalStateException stale = assertThrows(IllegalStateException.class, first::next);
        assertTrue(stale.getMessage().contains("epoch 0 was ended by a later call to epoch()"), stale.getMessage());
        assertFalse(first.hasNext());
        int n = 0;
        for (Batch b : second) n += b.size();
        assertEquals(50, n);
        loader.epoch(2).next();
        loader.close();
        loader.close(); // idempotent
        assertFalse(held.inputs().isOpen());
        assertThrows(IllegalStateException.class, () -> held.inputs().segment());
        assertThrows(IllegalStateException.class, () -> loader.epoch(3));
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("shears-loader-threads-xyz")) {
                // join briefly: close() already joined, so this only guards against a scheduler lag in the listing
                try {
                    t.join(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                assertFalse(t.isAlive(), "loader thread " + t.getName() + " outlived close()");
            }
        }
    }

    @Test
    void impossibleAugmentationsAreRefusedUpFront() {
        Dataset d = images("small", 4, 1, 3, 3, 5);
        IllegalArgumentException seq = assertThrows(IllegalArgumentException.class,
                () -> new Loader(d.rowSequence(), Loader.Options.of(2).withAugment(Augment.none().withFlip(true))));
        assertTrue(seq.getMessage().contains("crop and flip apply to image samples"), seq.getMessage());
        IllegalArgumentException rrc = assertThrows(IllegalArgumentException.class, () -> new Loader(d, Loader.Options.of(2).withAugment(Augment.imagenet())));
        assertTrue(rrc.getMessage().contains("random-resized-crop applies to image folders"), rrc.getMessage());
        IllegalArgumentException reflect = assertThrows(IllegalArgumentException.class, () -> new Loader(d, Loader.Options.of(2).withAugment(Augment.cifar())));
        assertTrue(reflect.getMessage().contains("reflect padding 4 needs images larger than it"), reflect.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Loader.Options.of(0));
    }
}
