package dev.shears.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.optim.Optimizer;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.testing.TinyLinear;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints: model + mask + buffers + optimizer state round-trip bit for bit into a fresh model;
 * names follow the state_dict convention; masks are U8; a foreign safetensors file, another
 * model's checkpoint, a truncated file and a wrong optimizer are clear errors that change nothing.
 */
class CheckpointTest {
    @TempDir
    Path dir;

    private static final int IN = 6, CLASSES = 4;

    /** A model with a mask, some optimizer history, and a non-trivial buffer. */
    private static void train(TinyLinear m, Optimizer opt, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        try (Tensor x = Tensor.allocate(DType.F32, 5, IN); Tensor d = Tensor.allocate(DType.F32, 5, CLASSES)) {
            for (int step = 0; step < 3; step++) {
                for (long i = 0; i < x.size(); i++) x.set(i, (float) r.nextGaussian());
                for (long i = 0; i < d.size(); i++) d.set(i, (float) r.nextGaussian());
                m.forward(x, true);
                opt.zeroGrad();
                m.backward(d);
                opt.step(0.1);
            }
        }
    }

    private static int[] bits(Tensor t) {
        float[] f = t.toFloatArray();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) b[i] = Float.floatToRawIntBits(f[i]);
        return b;
    }

    @Test
    void modelMasksBuffersAndOptimizerRoundTripBitForBit() {
        Path f = dir.resolve("ck.safetensors");
        try (Workspace ws = new Workspace("t"); TinyLinear a = new TinyLinear(IN, CLASSES, 0.1, 1); TinyLinear b = new TinyLinear(IN, CLASSES, 0.1, 2)) {
            float[] keep = new float[IN * CLASSES];
            for (int i = 0; i < keep.length; i++) keep[i] = i % 3 == 0 ? 0 : 1;
            a.weight().setMask(ws, keep);
            Optimizer oa = OptimizerConfig.sgd(0.9, false, 1e-3).create(a.parameters(), ws);
            train(a, oa, 7);
            Checkpoint.save(f, a, oa, Map.of("note", "hello"));

            Optimizer ob = OptimizerConfig.sgd(0.9, false, 1e-3).create(b.parameters(), ws);
            try (Checkpoint ck = Checkpoint.read(f)) {
                assertEquals(a.spec(), ck.spec());
                assertEquals("hello", ck.metadata().get("note"));
                assertEquals(List.of("fc.weight", "fc.bias", "in.running_mean", "fc.weight.mask", "optim.fc.weight.momentum_buffer", "optim.fc.bias.momentum_buffer"),
                        List.copyOf(ck.tensors().keySet()));
                assertEquals(Safetensors.DType.U8, ck.tensors().get("fc.weight.mask").dtype());
                ck.restoreModel(b, ws);
                ck.restoreOptimizer(ob);
            }
            assertArrayEquals(bits(a.weight().value()), bits(b.weight().value()));
            assertArrayEquals(bits(a.parameters().get(1).value()), bits(b.parameters().get(1).value()));
            assertArrayEquals(bits(a.runningMean()), bits(b.runningMean()));
            assertArrayEquals(bits(a.weight().mask()), bits(b.weight().mask()));
            for (String k : oa.state().keySet()) assertArrayEquals(bits(oa.state().get(k)), bits(ob.state().get(k)), k);
            assertEquals(3, ob.steps());
            // and both continue identically (dropout reseeded, as the trainer does each epoch)
            a.reseed(3, 1);
            b.reseed(3, 1);
            train(a, oa, 8);
            train(b, ob, 8);
            assertArrayEquals(bits(a.weight().value()), bits(b.weight().value()));
        }
    }

    @Test
    void aCheckpointWithoutMaskClearsTheModelsMask() {
        Path f = dir.resolve("dense.safetensors");
        try (Workspace ws = new Workspace("t"); TinyLinear a = new TinyLinear(IN, CLASSES, 0, 1); TinyLinear b = new TinyLinear(IN, CLASSES, 0, 2)) {
            Checkpoint.save(f, a, null, null);
            b.weight().setMask(ws, new float[IN * CLASSES]);
            try (Checkpoint ck = Checkpoint.read(f)) {
                assertTrue(!ck.hasOptimizerState());
                ck.restoreModel(b, null);
                Optimizer o = OptimizerConfig.sgd(0.9, false, 0).create(b.parameters(), ws);
                SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> ck.restoreOptimizer(o));
                assertTrue(e.getMessage().contains("has no optimizer state"), e.getMessage());
            }
            assertNull(b.weight().mask());
            assertArrayEquals(bits(a.weight().value()), bits(b.weight().value()));
        }
    }

    @Test
    void foreignAndMismatchedFilesAreClearErrorsThatChangeNothing() throws IOException {
        Path foreign = dir.resolve("foreign.safetensors");
        Safetensors.write(foreign, List.of(new Safetensors.Entry("w", Safetensors.DType.F32, new long[] {1}, MemorySegment.ofArray(new byte[4]))), Map.of("format", "pt"));
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Checkpoint.read(foreign));
        assertTrue(e.getMessage().contains("not a Shears checkpoint"), e.getMessage());

        Path other = dir.resolve("other.safetensors");
        try (Workspace ws = new Workspace("t"); TinyLinear big = new TinyLinear(IN + 1, CLASSES, 0, 1); TinyLinear m = new TinyLinear(IN, CLASSES, 0, 2)) {
            Checkpoint.save(other, big, OptimizerConfig.adam(0).create(big.parameters(), ws), null);
            int[] before = bits(m.weight().value());
            try (Checkpoint ck = Checkpoint.read(other)) {
                e = assertThrows(SafetensorsFormatException.class, () -> ck.restoreModel(m, ws));
                assertTrue(e.getMessage().contains("tensor 'fc.weight' is F32 [4, 7] but the model's parameter is F32 (4, 6)"), e.getMessage());
                Optimizer sgd = OptimizerConfig.sgd(0.9, false, 0).create(m.parameters(), ws);
                e = assertThrows(SafetensorsFormatException.class, () -> ck.restoreOptimizer(sgd));
                assertTrue(e.getMessage().contains("optimizer state is for ADAM but the run uses SGD"), e.getMessage());
            }
            assertArrayEquals(before, bits(m.weight().value()));

            byte[] all = Files.readAllBytes(other);
            Path cut = dir.resolve("cut.safetensors");
            Files.write(cut, java.util.Arrays.copyOf(all, all.length - 10));
            e = assertThrows(SafetensorsFormatException.class, () -> Checkpoint.read(cut));
            assertTrue(e.getMessage().startsWith(cut + ": tensor '"), e.getMessage());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }
}
