package dev.shears.tests;

import static dev.shears.tests.OnnxFixturesTest.forward;
import static dev.shears.tests.OnnxFixturesTest.recorded;
import static dev.shears.tests.OnnxFixturesTest.resource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.io.SparseExport;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.models.SparseInference;
import dev.shears.nn.onnx.OnnxImport;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import dev.shears.nn.train.BatchSource;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainConfig;
import dev.shears.pruning.FineTune;
import dev.shears.pruning.MinimumThreshold;
import dev.shears.pruning.ModelTopology;
import dev.shears.pruning.PruneOptions;
import dev.shears.pruning.Pruning;
import dev.shears.pruning.SparsityReport;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An imported torchvision ResNet used like a zoo model: pruned with Global MP and with Minimum
 * Threshold to an exact count, fine-tuned a few steps (finite loss, masks and zeros kept), its
 * checkpoint rebuilding the graph with bit-identical logits, the sparse inference path and the
 * sparse export giving the masked dense logits, and identity paths from the graph in the report.
 */
class OnnxImportWorkflowTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"global", "global-mt"})
    void pruneThenFineTuneKeepsTheExactCount(String method) {
        try (Network net = OnnxImport.read(resource("resnet_small_bn.onnx")); Workspace masks = new Workspace("masks");
             RandomImages train = new RandomImages(7, 16, 8, 10, 3, 64, 64)) {
            PruneOptions opts = method.equals("global") ? PruneOptions.DEFAULT : PruneOptions.DEFAULT.withMt(MinimumThreshold.parse("40", MinimumThreshold.Mode.EXACT));
            TrainConfig recipe = new TrainConfig(1, 8, OptimizerConfig.sgd(0.9, false, 5e-4), Schedule.constant(0.01, 1, 0), 0, 1, null, Progress.Mode.OFF);
            FineTune.Stage stage = FineTune.oneShot(net, method, 0.95, opts, null, masks, train, null, recipe);
            long n = stage.pruned().report().weights(), k = Math.round(0.95 * n);
            assertEquals(k, n - stage.pruned().report().kept(), "exactly k pruned");
            assertTrue(Double.isFinite(stage.training().last().trainLoss()), "finite loss after fine-tuning");
            assertEquals(2, stage.training().last().step(), "one epoch of two batches");
            long masked = 0, zero = 0;
            for (Parameter p : net.parameters()) {
                if (!p.prunable()) continue;
                assertTrue(p.mask() != null, p.name() + ": every conv and linear weight is prunable and masked");
                long layerMasked = 0;
                for (long i = 0; i < p.size(); i++) {
                    if (p.mask().get(i) == 0f) {
                        layerMasked++;
                        if (Float.floatToRawIntBits(p.value().get(i)) == 0) zero++;
                    }
                }
                masked += layerMasked;
                if (method.equals("global-mt")) assertTrue(p.size() - layerMasked >= Math.min(40, p.size()), p.name() + " keeps at least 40 weights");
            }
            assertEquals(k, masked, "masks kept through the steps");
            assertEquals(k, zero, "pruned weights stay exactly zero");
            SparsityReport r = Pruning.report(net);
            assertEquals(k, n - r.kept());
            assertEquals(21, r.rows().size(), "20 convolutions and the fc");
        }
    }

    @Test
    void collapseVerdictUsesTheGraphsIdentityPaths() {
        try (Network net = OnnxImport.read(resource("resnet_small.onnx")); Workspace masks = new Workspace("masks")) {
            // empty an identity block's first conv (bypassed) and a downsample block's (its shortcut conv is alive: also bypassed), and the stem (fatal)
            for (String name : List.of("layer1.0.conv1.weight", "layer2.0.conv1.weight", "conv1.weight")) {
                Parameter p = net.parameter(name);
                p.setMask(masks, new float[Math.toIntExact(p.size())]);
            }
            SparsityReport r = Pruning.report(net);
            assertEquals(List.of("conv1.weight", "layer1.0.conv1.weight", "layer2.0.conv1.weight"), r.collapsedLayers());
            assertEquals(List.of("conv1.weight"), r.fatalLayers(), r.table());
        }
    }

    @Test
    void identityPathsComeFromTheGraph() {
        try (Network net = OnnxImport.read(resource("resnet_small.onnx"))) {
            java.util.function.Predicate<String> identity = ModelTopology.identityBypassed(net);
            for (String block : List.of("layer1.0", "layer1.1", "layer2.1", "layer3.1", "layer4.1")) {
                assertTrue(identity.test(block + ".conv1.weight") && identity.test(block + ".conv2.weight"), block + " has an identity shortcut");
            }
            for (String w : List.of("conv1.weight", "fc.weight", "layer2.0.conv1.weight", "layer2.0.downsample.0.weight", "layer4.0.conv2.weight")) {
                assertFalse(identity.test(w), w + ": no identity path around it (a stem, a head, or a block with a shortcut convolution)");
            }
        }
    }

    @Test
    void checkpointRebuildsTheGraphWithIdenticalLogits() {
        OnnxFixturesTest.Recorded rec = recorded("ops_opset17");
        Path ck = dir.resolve("imported.safetensors");
        float[] before;
        try (Network net = OnnxImport.read(resource("ops_opset17.onnx"))) {
            before = forward(net, rec.input(), rec.inputShape());
            Checkpoint.save(ck, net, null, null);
        }
        try (Checkpoint c = Checkpoint.read(ck); Network back = ModelZoo.create(c.spec()); Workspace masks = new Workspace("m")) {
            assertEquals("graph", c.spec().get("model"));
            c.restoreModel(back, masks);
            assertArrayEquals(before, forward(back, rec.input(), rec.inputShape()), "bit-identical logits");
        }
    }

    @Test
    void prunedGraphRunsSparseAndExportsSparse() {
        OnnxFixturesTest.Recorded rec = recorded("resnet_small");
        Path file = dir.resolve("model.sparse.safetensors");
        try (Network net = OnnxImport.read(resource("resnet_small.onnx")); Workspace masks = new Workspace("masks")) {
            Pruning.prune(net, "global", 0.9, PruneOptions.DEFAULT, null, masks);
            float[] dense = forward(net, rec.input(), rec.inputShape());
            List<SparseInference.LayerChoice> choices = SparseInference.sparsify(net, 2, false);
            assertEquals(21, choices.size(), "every conv (groups 1) and the fc is a candidate");
            assertTrue(choices.stream().anyMatch(SparseInference.LayerChoice::sparse));
            assertTrue(SparseInference.fusedStatus(net).startsWith("fused inference: off, convolution 'conv1' (groups 1, kernel 7"), SparseInference.fusedStatus(net));
            OnnxFixturesTest.assertClose("sparse path", dense, forward(net, rec.input(), rec.inputShape()));
            SparseExport.write(file, net);
            try (Workspace m2 = new Workspace("m2"); Network loaded = SparseExport.load(file, m2)) {
                assertArrayEquals(dense, forward(loaded, rec.input(), rec.inputShape()), "the sparse file loads as the masked dense model");
            }
        }
    }

    @Test
    void prunedMobileNetGraphRunsTheFusedPath() {
        OnnxFixturesTest.Recorded rec = recorded("mobilenet_v2_small");
        try (Network net = OnnxImport.read(resource("mobilenet_v2_small.onnx")); Workspace masks = new Workspace("masks")) {
            Pruning.prune(net, "global", 0.9, PruneOptions.DEFAULT, null, masks);
            float[] dense = forward(net, rec.input(), rec.inputShape());
            SparseInference.sparsify(net, 2, false);
            assertTrue(SparseInference.fused(net), SparseInference.fusedStatus(net));
            assertTrue(SparseInference.fusedStatus(net).contains("52 fused convolutions"), SparseInference.fusedStatus(net));
            OnnxFixturesTest.assertClose("fused path", dense, forward(net, rec.input(), rec.inputShape()));
        }
    }

    /** Gaussian images with labels in [0, classes), the same batches every epoch. */
    static final class RandomImages implements BatchSource, AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final List<Batch> batches = new ArrayList<>();
        private final int batch, size;

        RandomImages(long seed, int size, int batch, int classes, int... shape) {
            this.batch = batch;
            this.size = size;
            SplittableRandom r = new SplittableRandom(seed);
            for (int at = 0; at < size; at += batch) {
                int n = Math.min(batch, size - at);
                Tensor x = Tensor.allocate(arena, DType.F32, n, shape[0], shape[1], shape[2]), y = Tensor.allocate(arena, DType.I32, n);
                for (long i = 0; i < x.size(); i++) x.set(i, (float) r.nextGaussian());
                for (int i = 0; i < n; i++) y.setInt(i, r.nextInt(classes));
                batches.add(new Batch(x, y));
            }
        }

        @Override public long size() { return size; }
        @Override public int batchSize() { return batch; }

        @Override
        public Epoch epoch(int epoch) {
            return new Epoch() {
                int next;

                @Override public boolean hasNext() { return next < batches.size(); }

                @Override
                public Batch next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    return batches.get(next++);
                }

                @Override public void close() {}
            };
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    @Test
    void importedModelIsAGraphOfPrunableLayers() {
        try (Network net = OnnxImport.read(resource("mobilenet_v2_small.onnx"))) {
            long prunable = net.parameters().stream().filter(Parameter::prunable).count();
            assertEquals(53, prunable, "52 convolutions (depthwise included) and the classifier");
            assertFalse(net.parameters().stream().filter(Parameter::prunable).anyMatch(p -> p.name().contains("bn")));
            assertTrue(net.parameter("features.0.0.weight").prunable(), "PyTorch's state_dict names are kept");
        }
    }
}
