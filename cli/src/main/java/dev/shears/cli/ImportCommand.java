package dev.shears.cli;

import dev.shears.nn.Parameter;
import dev.shears.nn.graph.GraphSpec;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxImport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears import}: an ONNX file (a CNN from torch.onnx.export) to a Shears checkpoint whose
 * model is a graph (the graph travels in the checkpoint, so eval/prune/finetune/infer need only
 * the checkpoint). Prints what came in. Not an ONNX validator: OnnxImport names what it cannot
 * take. Pinned by ImportCliTest.
 */
@Command(name = "import", mixinStandardHelpOptions = true, description = "Turn an ONNX model (a CNN, e.g. from torch.onnx.export) into a Shears checkpoint.",
        sortOptions = false)
final class ImportCommand implements Runnable {
    @Option(names = "--onnx", required = true, paramLabel = "FILE", description = "The .onnx file to read.")
    Path onnx;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The checkpoint (.safetensors) to write.")
    Path out;

    @Override
    public void run() {
        if (!Files.isRegularFile(onnx)) throw new UserError("--onnx " + onnx + ": no such file");
        try (Network net = OnnxImport.read(onnx)) {
            Checkpoint.save(out, net, null, Map.of("source", "onnx:" + onnx.getFileName()));
            GraphSpec g = GraphSpec.fromJson(net.spec().get(ModelZoo.GRAPH), out.toString());
            Map<String, Integer> ops = new TreeMap<>();
            for (GraphSpec.Node n : g.nodes()) ops.merge(n.op(), 1, Integer::sum);
            long prunable = 0, all = 0;
            int layers = 0;
            for (Parameter p : net.parameters()) {
                all += p.size();
                if (p.prunable()) {
                    prunable += p.size();
                    layers++;
                }
            }
            System.out.printf(Locale.ROOT, "imported %s -> %s%n", onnx, out);
            System.out.printf(Locale.ROOT, "input %s, %d classes, %d graph nodes %s%n", Arrays.toString(net.inputShape()), net.classes(), g.nodes().size(), ops);
            System.out.printf(Locale.ROOT, "%,d parameters, %,d prunable weights in %d conv/linear layers, %,d MACs per image%n", all, prunable, layers,
                    net.macs() + net.poolMacs());
        }
    }
}
