package dev.shears.nn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The zoo against published figures: prunable weights (conv + linear weights, the paper's count),
 * total parameters, dense MACs (STR's convention: weights x output positions, FC weights once),
 * state_dict names, spec round trip, seeding and errors.
 */
class ModelZooTest {

    private static long prunable(Model m) {
        return m.parameters().stream().filter(Parameter::prunable).mapToLong(Parameter::size).sum();
    }

    private static long total(Model m) {
        return m.parameters().stream().mapToLong(Parameter::size).sum();
    }

    private static long prunableLayers(Model m) {
        return m.parameters().stream().filter(Parameter::prunable).count();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        // model, shortcut, prunable weights, all parameters, prunable layers
        "resnet20, A, 268336, 269722, 20",   // He et al.: 0.27M
        "resnet32, A, 461872, 464154, 32",   // 0.46M (PAPER.md 2: 461,872 with option A)
        "resnet32, B, 464432, 466906, 34",   // PAPER.md 2: 464,432 with option B (+ 2,464 BN, + 10 bias)
        "resnet56, A, 848944, 853018, 56",   // 0.85M
    })
    void cifarResNetsMatchPublishedCounts(String name, String shortcut, long weights, long all, long layers) {
        try (Network m = ModelZoo.create(name, ModelConfig.cifar10().withShortcut(shortcut))) {
            assertEquals(weights, prunable(m));
            assertEquals(all, total(m));
            assertEquals(layers, prunableLayers(m));
        }
    }

    @Test
    void resnet32MacsMatchThePaperCount() {
        try (Network m = ModelZoo.create("resnet32", ModelConfig.cifar10())) {
            assertEquals(68.9e6, m.macs(), 0.1e6); // PAPER.md 2: "ResNet-32 68.9M (option A)"
        }
    }

    @Test
    void wrn28x8MatchesThePaper() {
        try (Network m = ModelZoo.create("wrn-28-8", ModelConfig.cifar10())) {
            assertEquals(23_340_464, prunable(m));   // PAPER.md 2: 23,340,464 in 29 layers
            assertEquals(29, prunableLayers(m));
            assertEquals(3.36e9, m.macs(), 0.01e9);  // PAPER.md 2: 3.36G
        }
    }

    @Test
    void mobileNetV1MatchesStr() {
        try (Network m = ModelZoo.create("mobilenet-v1", ModelConfig.imagenet())) {
            assertEquals(4_209_088, prunable(m));    // 28 layers, 4.21M
            assertEquals(28, prunableLayers(m));
            assertEquals(568.7e6, m.macs(), 0.1e6);  // "569M MACs"
            assertEquals(1024 * 7 * 7, m.poolMacs());
        }
    }

    @Test
    void mobileNetV2CifarMatchesThePaper() {
        try (Network m = ModelZoo.create("mobilenet-v2-cifar", ModelConfig.cifar10())) {
            assertEquals(2_261_824, prunable(m));    // 58 layers
            assertEquals(58, prunableLayers(m));
            assertTrue(m.parameters().stream().anyMatch(p -> p.name().equals("layers.16.shortcut.0.weight")));
        }
    }

    @Test
    void resnet50MatchesStrBudget() {
        try (Network m = ModelZoo.create("resnet50", ModelConfig.imagenet())) {
            assertEquals(25_502_912, prunable(m));       // STR's conv+FC weight count ("25.50M")
            assertEquals(25_557_032, total(m));          // torchvision's parameter count ("25.6M")
            assertEquals(4_089_284_608L, m.macs() + m.poolMacs()); // STR's dense FLOPs, pool included
            assertEquals(118_013_952L, m.parameter("conv1.weight").macs()); // 9,408 x 112^2
            assertEquals(2_048_000L, m.parameter("fc.weight").macs());
            assertEquals(List.of(64, 64, 3, 3), toList(m.parameter("layer1.0.conv2.weight").shape()));
            assertEquals(List.of(128, 256, 1, 1), toList(m.parameter("layer2.0.conv1.weight").shape()));
            assertEquals(List.of(512, 256, 1, 1), toList(m.parameter("layer2.0.downsample.0.weight").shape()));
        }
    }

    @Test
    void lenet5IsTheCaffeNet() {
        try (Network m = ModelZoo.create("lenet5", ModelConfig.mnist())) {
            assertEquals(430_500, prunable(m));
            assertEquals(431_080, total(m));
            assertEquals(List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc3.weight", "fc3.bias", "fc4.weight", "fc4.bias"),
                    m.parameters().stream().map(Parameter::name).toList());
            assertEquals(24 * 24, m.parameter("conv1.weight").macsPerWeight());
            assertEquals(1, m.parameter("fc3.weight").macsPerWeight());
            assertTrue(m.buffers().isEmpty());
        }
    }

    @Test
    void namesFollowStateDict() {
        try (Network m = ModelZoo.create("resnet20", ModelConfig.of(1, 16, 16, 3).withShortcut("B"))) {
            List<String> names = m.parameters().stream().map(Parameter::name).toList();
            assertEquals("conv1.weight", names.getFirst());
            assertTrue(names.containsAll(List.of("bn1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer2.0.shortcut.0.weight",
                    "layer2.0.shortcut.1.weight", "layer3.2.bn2.bias", "linear.weight", "linear.bias")), names.toString());
            assertTrue(m.buffers().containsKey("bn1.running_mean"));
            assertTrue(m.buffers().containsKey("layer3.2.bn2.running_var"));
            assertArrayEquals(new int[] {16, 1, 3, 3}, m.parameter("conv1.weight").shape());
            assertArrayEquals(new int[] {3, 64}, m.parameter("linear.weight").shape());
        }
        try (Network m = ModelZoo.create("wrn-16-2", ModelConfig.cifar10())) {
            assertTrue(m.parameters().stream().anyMatch(p -> p.name().equals("block1.layer.0.convShortcut.weight")));
            assertFalse(m.parameters().stream().anyMatch(p -> p.name().equals("block1.layer.1.convShortcut.weight")));
            assertTrue(m.buffers().containsKey("block3.layer.1.bn2.running_mean"));
        }
    }

    @Test
    void specRoundTripsAndSeedFixesTheWeights() {
        ModelConfig cfg = ModelConfig.of(1, 28, 28, 7).withSeed(5).withShortcut("B");
        try (Network a = ModelZoo.create("resnet20", cfg); Network b = ModelZoo.create(a.spec());
             Network c = ModelZoo.create("resnet20", cfg.withSeed(6))) {
            assertEquals(Map.of("model", "resnet20", "channels", "1", "height", "28", "width", "28", "classes", "7", "seed", "5", "shortcut", "B"), a.spec());
            assertEquals(a.spec(), b.spec());
            for (int i = 0; i < a.parameters().size(); i++) {
                assertArrayEquals(a.parameters().get(i).value().toFloatArray(), b.parameters().get(i).value().toFloatArray(), a.parameters().get(i).name());
            }
            assertFalse(java.util.Arrays.equals(a.parameter("conv1.weight").value().toFloatArray(), c.parameter("conv1.weight").value().toFloatArray()));
        }
        try (Network m = ModelZoo.create("wrn-16-4", ModelConfig.cifar10()); Network n = ModelZoo.create(m.spec())) {
            assertEquals("0.3", m.spec().get("dropout"));
            assertEquals(m.spec(), n.spec());
        }
    }

    @Test
    void initialisationFollowsTorchvision() {
        try (Network m = ModelZoo.create("resnet56", ModelConfig.cifar10())) {
            float[] w = m.parameter("layer3.0.conv1.weight").value().toFloatArray(); // (64, 32, 3, 3): fan_out 576
            double ss = 0, mean = 0;
            for (float v : w) {
                mean += v;
                ss += v * v;
            }
            mean /= w.length;
            assertEquals(0, mean, 0.01);
            assertEquals(Math.sqrt(2.0 / 576), Math.sqrt(ss / w.length), 0.05 * Math.sqrt(2.0 / 576));
            float[] g = m.parameter("layer3.0.bn1.weight").value().toFloatArray();
            for (float v : g) assertEquals(1f, v);
            float[] fc = m.parameter("linear.weight").value().toFloatArray();
            for (float v : fc) assertTrue(Math.abs(v) <= 1 / Math.sqrt(64), "linear init within U(+-1/sqrt(in))");
            assertEquals(1f, m.buffers().get("bn1.running_var").get(0));
        }
    }

    @Test
    void badNamesAndOptionsSayWhatIsValid() {
        var e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.create("resnet33", ModelConfig.cifar10()));
        assertTrue(e.getMessage().contains("resnet32") && e.getMessage().contains("mobilenet-v1") && e.getMessage().contains("wrn-D-K"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.create("resnet32", ModelConfig.cifar10().withShortcut("C")));
        assertTrue(e.getMessage().contains("shortcut must be A"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.create("lenet5", ModelConfig.mnist().withDropout(0.2)));
        assertTrue(e.getMessage().contains("no option 'dropout'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.create("wrn-27-2", ModelConfig.cifar10()));
        assertTrue(e.getMessage().contains("6n+4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.create(Map.of("model", "lenet5")));
        assertTrue(e.getMessage().contains("lacks"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.create("lenet5", ModelConfig.of(1, 8, 8, 10)));
        assertTrue(e.getMessage().contains("conv2") || e.getMessage().contains("pool"), e.getMessage());
    }

    private static List<Integer> toList(int[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }
}
